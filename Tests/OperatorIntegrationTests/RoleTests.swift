import Foundation
import Testing

@testable import KubeClient

/// The Role (operator/role.yaml; the chart renders the same rules, checked
/// in e2e/kubeapi) is derived from the calls the operator makes: every
/// grant is used, and nothing it does needs more.
extension OperatorIntegrationTests {
    @Test func theRoleGrantsExactlyTheCallsTheOperatorMakes() async throws {
        try await TestCluster.with { cluster in
            // Every path that calls the API: the refusal beside an HPA (which
            // reads the Deployment for its Event), then a retirement.
            try await cluster.createAutoscaler()
            let refused = try cluster.startOperator()
            #expect(await refused.process.waitForExit() == 1)
            try await cluster.emulator.api("DELETE", TestCluster.autoscalers + "/tig-hpa")
            let op = try cluster.startOperator(["lifetime": "5s", "minReplicas": "2", "maxReplicas": "4"])
            try await eventually("an expired pod retired (log: \(op.process.outputPath))") {
                cluster.kubelet.deletedPods.first
            }
            #expect(await op.stop() == 0)

            let calls = try await cluster.emulator.requests().filter { $0.credential == "operator" }
            #expect(calls.allSatisfy { $0.status != 403 }, "refused: \(calls.filter { $0.status == 403 }.map { "\($0.method) \($0.path)" })")
            let made = Set(calls.map { Grant(apiGroup: $0.apiGroup, resource: $0.resource, verb: $0.verb) })
            #expect(made == (try granted()), "made: \(made.sorted()), granted: \((try? granted())?.sorted() ?? [])")
        }
    }

    /// The Role's rules, one (group, resource, verb) per grant.
    private func granted() throws -> Set<Grant> {
        let text = try String(
            contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent("operator/role.yaml"), encoding: .utf8)
        let role = try #require(try YAMLLoader.load(text))
        var grants: Set<Grant> = []
        for rule in try role["rules"]?.sequence() ?? [] {
            for group in try rule["apiGroups"]?.sequence() ?? [] {
                for resource in try rule["resources"]?.sequence() ?? [] {
                    for verb in try rule["verbs"]?.sequence() ?? [] {
                        grants.insert(Grant(apiGroup: try group.string(), resource: try resource.string(), verb: try verb.string()))
                    }
                }
            }
        }
        return grants
    }
}

struct Grant: Hashable, Comparable, CustomStringConvertible {
    var apiGroup: String
    var resource: String
    var verb: String

    var description: String { "\(apiGroup.isEmpty ? "core" : apiGroup)/\(resource):\(verb)" }

    static func < (a: Grant, b: Grant) -> Bool { a.description < b.description }
}
