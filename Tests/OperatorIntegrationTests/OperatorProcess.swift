import Foundation
import KubeClient

/// The real `tig-operator` binary, run against the emulator with a config
/// written for the test.
final class OperatorProcess: Sendable {
    let process: ChildProcess
    let directory: URL

    static let identity = "operator-under-test"

    /// Short Lease timings so that losing and regaining leadership takes seconds.
    init(config: String, kubeconfig: String, directory: URL, identity: String = OperatorProcess.identity) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configPath = directory.appendingPathComponent("config.yaml").path
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        process = try ChildProcess(
            TestEnvironment.operatorBinary,
            ["--config", configPath, "--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0", "--log-level", "debug",
             "--lease-duration", "3s", "--renew-deadline", "2s", "--retry-period", "500ms"],
            environment: ["POD_NAME": identity],
            output: directory.appendingPathComponent("operator.log").path)
    }

    var log: String { process.output }

    /// Log lines with `event=<name>`.
    func events(_ name: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter { $0.contains("event=\(name) ") || $0.hasSuffix("event=\(name)") }
    }

    /// The operator's own `/metrics` as name → value (unlabelled series only).
    func metrics() async throws -> [String: Double] {
        let port = try await eventually("the operator to log its address") {
            events("started").first.flatMap { line in
                line.split(separator: " ").first { $0.hasPrefix("listen=") }?.split(separator: ":").last.map(String.init)
            }
        }
        let executor = CurlExecutor(threads: 1)
        let response = try? await executor.perform(HTTPRequest(url: "http://127.0.0.1:\(port)/metrics", timeout: 5))
        try await executor.shutdown()
        var values: [String: Double] = [:]
        for line in String(decoding: response?.body ?? [], as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Double(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }

    func stop() async -> Int32 {
        await process.stop()
    }
}

/// A config for tests: fast intervals, the given overrides.
func operatorConfig(port: Int, _ overrides: [String: String] = [:]) -> String {
    var settings: [String: String] = [
        "namespace": "default", "deployment": "tig", "selector": "app.kubernetes.io/name=tig",
        "metricsPort": String(port), "work": "requests", "lifetime": "1h", "lifetimeJitter": "0",
        "normalRate": "1000", "tolerance": "0.1", "minReplicas": "2", "maxReplicas": "4",
        "interval": "500ms", "leaderElection": "true", "dryRun": "false",
    ]
    settings.merge(overrides) { $1 }
    return settings.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n") + "\n"
}
