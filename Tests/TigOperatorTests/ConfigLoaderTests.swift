import Foundation
@testable import KubeClient
import Testing
@testable import TigOperator

@Suite struct ConfigLoaderTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theShippedDefaultConfigIsTheBuiltInDefault() throws {
        let text = try String(contentsOf: Self.repositoryRoot.appendingPathComponent("operator/config.yaml"), encoding: .utf8)
        #expect(try ConfigLoader.parse(text) == OperatorConfig())
    }

    @Test func specDefaults() {
        let config = OperatorConfig()
        #expect(config.namespace == "default")
        #expect(config.deployment == "tig")
        #expect(config.selector == "app.kubernetes.io/name=tig")
        #expect(config.metricsPort == 9090)
        #expect(config.work == .requests)
        #expect(config.lifetime == .seconds(3600))
        #expect(config.lifetimeJitter == 0.2)
        #expect(config.normalRate == 200)
        #expect(config.tolerance == 0.1)
        #expect(config.minReplicas == 2)
        #expect(config.maxReplicas == 10)
        #expect(config.interval == .seconds(15))
        #expect(config.leaderElection)
        #expect(!config.dryRun)
    }

    @Test func everyKeyIsRead() throws {
        let config = try ConfigLoader.parse(
            """
            namespace: tig-system
            deployment: tig.blue
            selector: app=tig,tier=store
            metricsPort: 9443
            metricsScheme: https
            work: bytes
            lifetime: 1.5h
            lifetimeJitter: 0
            normalRate: 1e6
            tolerance: 0.25
            minReplicas: 3
            maxReplicas: 3
            interval: 500ms
            leaderElection: false
            dryRun: true
            """)
        #expect(config.namespace == "tig-system")
        #expect(config.deployment == "tig.blue")
        #expect(config.selector == "app=tig,tier=store")
        #expect(config.metricsPort == 9443)
        #expect(config.metricsScheme == .https)
        #expect(config.work == .bytes)
        #expect(config.lifetime == .seconds(5400))
        #expect(config.lifetimeJitter == 0)
        #expect(config.normalRate == 1_000_000)
        #expect(config.tolerance == 0.25)
        #expect(config.minReplicas == 3 && config.maxReplicas == 3)
        #expect(config.interval == .milliseconds(500))
        #expect(!config.leaderElection)
        #expect(config.dryRun)
        #expect(config.mitosis.minimumWindow == 0.5)
    }

    /// Each malformed config and the exact message it must be refused with.
    static let malformed: [(yaml: String, error: String)] = [
        ("", "line 1, column 1: the config is empty; expected a mapping of settings"),
        ("- a\n- b\n", "line 1, column 1: expected a mapping of settings, got a list"),
        ("deployment: tig\nreplicas: 3\n",
         "line 2, column 1: unknown key \"replicas\" (known keys: deployment, dryRun, interval, leaderElection, lifetime, lifetimeJitter, maxReplicas, metricsPort, metricsScheme, minReplicas, namespace, normalRate, selector, surgeTimeout, tolerance, work)"),
        ("minReplicas: 2\nminReplicas: 3\n", "line 2, column 1: duplicate key \"minReplicas\" (first set at line 1)"),
        ("minReplicas: two\n", "line 1, column 14: minReplicas: expected an integer, got \"two\""),
        ("minReplicas: 2.5\n", "line 1, column 14: minReplicas: expected an integer, got \"2.5\""),
        ("maxReplicas: \"4\"\n", "line 1, column 14: maxReplicas: expected an integer, got \"4\""),
        ("minReplicas: 0\n", "line 1, column 14: minReplicas: expected at least 1"),
        ("minReplicas: 5\nmaxReplicas: 3\n", "line 1, column 14: minReplicas (5) is greater than maxReplicas (3)"),
        ("maxReplicas: 1\n", "line 1, column 14: minReplicas (2) is greater than maxReplicas (1)"),
        ("lifetime: 0s\n", "line 1, column 11: lifetime: expected a positive duration, got \"0s\""),
        ("lifetime: -1h\n", "line 1, column 11: lifetime: expected a positive duration, got \"-1h\""),
        ("interval: 15\n", "line 1, column 11: interval: expected a duration such as 90s, 15m or 1h, got \"15\""),
        ("interval: 15 seconds\n", "line 1, column 11: interval: expected a duration such as 90s, 15m or 1h, got \"15 seconds\""),
        ("interval:\n", "line 1, column 10: interval: expected a duration such as 90s, 15m or 1h, got null"),
        ("work: cpu\n", "line 1, column 7: work: expected requests or bytes, got \"cpu\""),
        ("metricsScheme: ftp\n", "line 1, column 16: metricsScheme: expected http or https, got \"ftp\""),
        ("tolerance: 1\n", "line 1, column 12: tolerance: expected a fraction from 0 up to (not including) 1"),
        ("tolerance: -0.1\n", "line 1, column 12: tolerance: expected a fraction from 0 up to (not including) 1"),
        ("lifetimeJitter: 1.5\n", "line 1, column 17: lifetimeJitter: expected a fraction from 0 up to (not including) 1"),
        ("lifetimeJitter: .inf\n", "line 1, column 17: lifetimeJitter: expected a number, got \".inf\""),
        ("normalRate: 0\n", "line 1, column 13: normalRate: expected a positive rate (work per second)"),
        ("metricsPort: 70000\n", "line 1, column 14: metricsPort: expected a port from 1 to 65535"),
        ("dryRun: yes\n", "line 1, column 9: dryRun: expected true or false, got \"yes\""),
        ("leaderElection: [true]\n", "line 1, column 17: leaderElection: expected true or false, got a list"),
        ("namespace: Default\n", "line 1, column 12: namespace: \"Default\" is not a valid Kubernetes name"),
        ("deployment: -tig\n", "line 1, column 13: deployment: \"-tig\" is not a valid Kubernetes name"),
        ("selector: \"\"\n", "line 1, column 11: selector: must not be empty: the operator would scale on every pod in the namespace"),
        ("namespace: default\n  deployment: tig\n", "line 2, column 13: mapping values are not allowed in this context"),
        ("interval: [1s\n", "line 2, column 1: while parsing a flow sequence: did not find expected ',' or ']'"),
        ("{interval: 1s}: x\n", "line 1, column 1: expected a setting name, got a mapping"),
    ]

    @Test(arguments: malformed)
    func malformedConfigIsRefusedWithLineAndColumn(yaml: String, error expected: String) {
        do {
            let config = try ConfigLoader.parse(yaml)
            Issue.record("accepted \(config)")
        } catch {
            #expect(error.description == expected)
        }
    }
}
