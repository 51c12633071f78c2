import Foundation
import KubeClient
import Logging
import Testing

/// How the operator's API client treats the server: connections, silent
/// watches, objects that are deleted and created again.
extension OperatorIntegrationTests {
    @Test func consecutiveRequestsShareOneConnection() async throws {
        try await TestCluster.with { cluster in
            let executor = CurlExecutor(threads: 1)
            let client = KubernetesClient(
                connection: try ClusterConnection.kubeconfig(path: cluster.emulator.kubeconfig), executor: executor,
                logger: Logger(label: "test"))
            let mark = try await cluster.emulator.requests().last?.seq ?? 0
            for _ in 0..<5 {
                _ = try await client.getScale(namespace: "default", deployment: "tig")
            }
            try await executor.shutdown()
            let remotes = try await cluster.emulator.requests().filter { $0.seq > mark }.map(\.remote)
            #expect(remotes.count == 5)
            #expect(Set(remotes).count == 1, "each request opened a connection of its own: \(remotes)")
        }
    }

    @Test func aSilentWatchIsReplacedWithinOneInterval() async throws {
        try await TestCluster.with { cluster in
            let op = try cluster.startOperator(["interval": "2s"])
            try await eventually("the operator's pod watch") {
                try await cluster.emulator.requests().contains { $0.isPodWatch && $0.status == 200 } ? true : nil
            }
            // The next watch is accepted and then nothing comes, for ten minutes:
            // a hung server or a half-open connection.
            try await cluster.emulator.addFault(method: "GET", path: "/pods$", query: "watch=true", delayMs: 600_000)
            let hung = try await eventually("a watch to hang") {
                try await cluster.emulator.requests().first { $0.isPodWatch && $0.fault != nil }
            }
            // Given up after one interval (2 s); the old client waited 330 s.
            let next = try await eventually("a new watch after the silent one (log: \(op.process.outputPath))", timeout: .seconds(15)) {
                try await cluster.emulator.requests().first { $0.seq > hung.seq && $0.isPodWatch && $0.status == 200 }
            }
            #expect(!(next.parameter("resourceVersion") ?? "").isEmpty, "resumed from the last version, not relisted")
            #expect(op.events("watch-stalled").count == 1)
            #expect(await op.stop() == 0)
        }
    }

    @Test func eventsNameTheDeploymentThatExistsNow() async throws {
        try await TestCluster.with { cluster in
            try await cluster.setReplicas(1)
            let op = try cluster.startOperator()
            let firstUID = try await deploymentUID(cluster)
            try await eventually("an Event on the first Deployment (log: \(op.process.outputPath))") {
                try await eventUIDs(cluster).contains(firstUID) ? true : nil
            }
            // A reinstall: the Deployment is deleted and created again, with a new uid.
            try await cluster.emulator.api("DELETE", "/apis/apps/v1/namespaces/default/deployments/tig")
            try await cluster.createDeployment(replicas: 1)
            let secondUID = try await deploymentUID(cluster)
            #expect(secondUID != firstUID)
            try await eventually("an Event on the new Deployment") {
                try await eventUIDs(cluster).contains(secondUID) ? true : nil
            }
            #expect(try await cluster.replicas() == 2)
            #expect(await op.stop() == 0)
        }
    }

    private func deploymentUID(_ cluster: TestCluster) async throws -> String {
        let deployment = try await cluster.emulator.objects("deployments").first { dig($0, "metadata", "name") as? String == "tig" }
        return try #require(dig(deployment, "metadata", "uid") as? String)
    }

    /// The uids the operator's Events name.
    private func eventUIDs(_ cluster: TestCluster) async throws -> [String] {
        try await cluster.emulator.objects("events")
            .filter { dig($0, "source", "component") as? String == "tig-operator" }
            .compactMap { dig($0, "involvedObject", "uid") as? String }
    }
}
