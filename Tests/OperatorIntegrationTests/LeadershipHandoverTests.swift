import Foundation
import Testing

/// Two operator replicas, each with a credential of its own so that the
/// emulator's request log (its audit log) tells them apart.
extension OperatorIntegrationTests {
    @Test func aKilledLeaderIsReplacedAndNeverActsBesideTheNewOne() async throws {
        try await TestCluster.with { cluster in
            let first = try await cluster.emulator.mintCredential("op-a")
            let second = try await cluster.emulator.mintCredential("op-b")
            let leader = try cluster.startOperator(kubeconfig: first, identity: "op-a")
            try await eventually("op-a to lead (log: \(leader.process.outputPath))") {
                try await holder(cluster) == "op-a" ? true : nil
            }
            let follower = try cluster.startOperator(kubeconfig: second, identity: "op-b")
            try await restoresMinReplicas(cluster, by: "op-a")

            // SIGKILL: no release of the Lease; op-b waits it out, then takes over.
            leader.process.signal(SIGKILL)
            _ = await leader.process.waitForExit()
            try await eventually("op-b to take the expired Lease (log: \(follower.process.outputPath))") {
                try await holder(cluster) == "op-b" ? true : nil
            }
            try await restoresMinReplicas(cluster, by: "op-b")

            // op-a comes back (the same identity, as a restarted pod would)
            // and finds the Lease held: it must only wait.
            let returned = try cluster.startOperator(kubeconfig: first, identity: "op-a")
            let back = try await cluster.emulator.requests().last?.seq ?? 0
            try await eventually("the returned op-a to try the Lease four times (log: \(returned.process.outputPath))") {
                try await cluster.emulator.requests()
                    .filter { $0.seq > back && $0.credential == "op-a" && $0.path.hasSuffix("/leases/tig-operator") }
                    .count >= 4 ? true : nil
            }
            try await restoresMinReplicas(cluster, by: "op-b")
            #expect(returned.events("leader-acquired").isEmpty)

            // Never two actors: every action of an operator comes from
            // whoever wrote the Lease last (the kubelet and the test act as admin).
            let requests = try await cluster.emulator.requests().filter { $0.credential?.hasPrefix("op-") == true }
            var lastHolder: String?
            for request in requests {
                if request.isLeaseWrite { lastHolder = request.credential }
                if request.isAction && request.status != nil {
                    #expect(request.credential == lastHolder, "\(request.method) \(request.path) by \(request.credential ?? "?") while \(lastHolder ?? "nobody") held the Lease")
                }
            }
            #expect(requests.filter { $0.seq > back && $0.credential == "op-a" && $0.isAction }.isEmpty)
            #expect(await follower.stop() == 0)
            #expect(await returned.stop() == 0)
        }
    }

    /// Someone lowers replicas below minReplicas; the leader raises them again.
    private func restoresMinReplicas(_ cluster: TestCluster, by credential: String) async throws {
        let mark = try await cluster.emulator.requests().last?.seq ?? 0
        try await cluster.setReplicas(1)
        try await eventually("\(credential) to restore minReplicas") {
            try await cluster.replicas() == 2 ? true : nil
        }
        let writers = try await cluster.emulator.requests().filter { $0.seq > mark && $0.isScalePatch && $0.status == 200 }
            .compactMap(\.credential).filter { $0 != "admin" }
        #expect(writers == [credential])
    }

    private func holder(_ cluster: TestCluster) async throws -> String? {
        dig(try await cluster.lease(), "spec", "holderIdentity") as? String
    }
}
