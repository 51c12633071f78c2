import Foundation
import Testing

@testable import KubeClient

/// The real `tig-operator` binary against the Kubernetes API emulator, with
/// real `tig serve` pods. Serialized: each test runs its own emulator, pods
/// and operator, and the machine has two cores.
@Suite(.serialized) struct OperatorIntegrationTests {
    @Test func dividesWhenThePodsAreOverworked() async throws {
        try await TestCluster.with { cluster in
            let op = try cluster.startOperator(["normalRate": "2", "maxReplicas": "4"])
            for ip in try await cluster.kubelet.addresses.values {
                try await cluster.load(ip: ip, count: 150)
            }
            try await eventually("a divide to maxReplicas (log: \(op.process.outputPath))") {
                try await cluster.replicas() == 4 ? true : nil
            }
            try await cluster.waitForReadyPods(4)
            let events = try await cluster.operatorEvents()
            #expect(events.contains { $0.reason == "Divide" && $0.message.contains("→ 4") })

            // It listed, then watched from the list's version with bookmarks.
            let requests = try await cluster.emulator.requests()
            let list = try #require(requests.first { $0.isPodList && $0.status == 200 })
            let watch = try #require(requests.first { $0.isPodWatch && $0.seq > list.seq })
            #expect(watch.parameter("allowWatchBookmarks") == "true")
            #expect(!(watch.parameter("resourceVersion") ?? "").isEmpty)
            #expect(watch.parameter("labelSelector") == "app.kubernetes.io/name=tig")
            #expect(await op.stop() == 0)
        }
    }

    @Test func retiresAnExpiredPodMakeBeforeBreak() async throws {
        try await TestCluster.with { cluster in
            let original = try await cluster.readyPods().compactMap { dig($0, "metadata", "uid") as? String }
            // Idle pods at minReplicas: a rotation, surge first.
            let op = try cluster.startOperator(["lifetime": "5s", "minReplicas": "2", "maxReplicas": "4"])
            let retired = try await eventually("the first expired pod to be deleted (log: \(op.process.outputPath))") {
                cluster.kubelet.deletedPods.first
            }
            #expect(original.contains(retired.uid))
            #expect(cluster.kubelet.readyOthersAtDeletion[retired.uid].map { $0 >= 2 } == true, "capacity dipped")
            let events = try await cluster.operatorEvents()
            let surge = try #require(events.firstIndex { $0.reason == "Surge" && $0.message.contains(retired.name) })
            let retire = try #require(events.firstIndex { $0.reason == "Retire" && $0.message.contains(retired.name) })
            #expect(surge < retire)
            #expect(events[surge].message.contains("replicas 2 → 3"))
            #expect(events[retire].message.contains("replicas 3 → 2"))
            // The pod was marked before the scale-in that removed it.
            let requests = try await cluster.emulator.requests()
            let marks = requests.filter { $0.method == "PATCH" && $0.path.hasSuffix("/pods/\(retired.name)") && $0.status == 200 }
            let lastMark = try #require(marks.last)
            #expect(marks.count == 2, "one mark for the surge, one with the deletion cost")
            #expect(requests.contains { $0.isScalePatch && $0.seq > lastMark.seq })
            #expect(await op.stop() == 0)
        }
    }

    @Test func relistsWhenTheWatchIsExpiredInTheStream() async throws {
        try await TestCluster.with { cluster in
            let op = try cluster.startOperator()
            try await waitForWatch(cluster)
            // Move the store past the operator's version without touching its pods, forget the history, cut the stream.
            try await cluster.emulator.api(
                "POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", ["metadata": ["name": "unrelated"], "spec": [:]])
            try await cluster.emulator.admin("POST", "compact")
            let before = try await cluster.emulator.requests().last?.seq ?? 0
            try await cluster.emulator.admin("POST", "watches/drop")
            // A change the operator can only learn from a fresh list.
            try await cluster.setReplicas(3)
            try await cluster.waitForReadyPods(3)
            try await eventually("a relist after the 410 (log: \(op.process.outputPath))") {
                try await cluster.emulator.requests().contains { $0.seq > before && $0.isPodList && $0.status == 200 } ? true : nil
            }
            try await eventually("the operator to see 3 ready pods") {
                try await op.metrics()["tig_operator_ready_pods"] == 3 ? true : nil
            }
            #expect(op.events("watch-expired").count >= 1)
            #expect(await op.stop() == 0)
        }
    }

    @Test func relistsWhenTheWatchIsAnswered410() async throws {
        try await TestCluster.with { cluster in
            let op = try cluster.startOperator()
            try await waitForWatch(cluster)
            try await cluster.emulator.addFault(method: "GET", path: "/pods$", query: "watch=true", status: 410)
            let before = try await cluster.emulator.requests().last?.seq ?? 0
            try await cluster.emulator.admin("POST", "watches/drop")
            try await eventually("a relist and a new watch after the HTTP 410") { () -> Bool? in
                let requests = try await cluster.emulator.requests().filter { $0.seq > before }
                guard let gone = requests.first(where: { $0.isPodWatch && $0.status == 410 }),
                    let list = requests.first(where: { $0.isPodList && $0.seq > gone.seq && $0.status == 200 })
                else { return nil }
                return requests.contains { $0.isPodWatch && $0.seq > list.seq && $0.status == 200 } ? true : nil
            }
            #expect(await op.stop() == 0)
        }
    }

    @Test func resumesADroppedWatchWithoutRelisting() async throws {
        try await TestCluster.with { cluster in
            let op = try cluster.startOperator()
            try await waitForWatch(cluster)
            let before = try await cluster.emulator.requests().last?.seq ?? 0
            try await cluster.emulator.admin("POST", "watches/drop")
            try await cluster.setReplicas(3)
            try await cluster.waitForReadyPods(3)
            try await eventually("the operator to see the third pod through the resumed watch") {
                try await op.metrics()["tig_operator_ready_pods"] == 3 ? true : nil
            }
            let after = try await cluster.emulator.requests().filter { $0.seq > before }
            let version = after.first { $0.isPodWatch }?.parameter("resourceVersion") ?? ""
            #expect(!version.isEmpty && version != "0")
            let relisted = after.contains { $0.isPodList }
            #expect(!relisted, "a dropped stream resumes; it does not relist")
            #expect(await op.stop() == 0)
        }
    }

    @Test func aConflictOnTheLeaseLosesLeadershipUntilRegained() async throws {
        try await TestCluster.with { cluster in
            let op = try cluster.startOperator()
            try await eventually("leadership") { op.events("leader-acquired").count == 1 ? true : nil }
            try await cluster.emulator.addFault(method: "PUT", path: "/leases/tig-operator$", status: 409)
            try await eventually("leadership lost on the 409 and taken again (log: \(op.process.outputPath))") {
                op.events("leader-lost").contains { $0.contains("409") } && op.events("leader-acquired").count == 2 ? true : nil
            }
            #expect(dig(try await cluster.lease(), "spec", "holderIdentity") as? String == OperatorProcess.identity)

            // Another holder takes the Lease: the operator must stop acting.
            var lease = try #require(try await cluster.lease())
            var spec = lease["spec"] as? JSONObject ?? [:]
            spec["holderIdentity"] = "someone-else"
            spec["leaseDurationSeconds"] = 3600
            spec["renewTime"] = KubeTime.format(Date())
            lease["spec"] = spec
            try await cluster.emulator.api("PUT", "/apis/coordination.k8s.io/v1/namespaces/default/leases/tig-operator", lease)
            try await eventually("leadership lost to someone-else") {
                op.events("leader-lost").count == 2 ? true : nil
            }
            try await cluster.setReplicas(1)
            let mark = try await cluster.emulator.requests().last?.seq ?? 0
            // Several renewal attempts (the operator's own clock) go by without it touching the Deployment.
            try await eventually("four lease reads while not leading") {
                try await cluster.emulator.requests().filter { $0.seq > mark && $0.path.hasSuffix("/leases/tig-operator") }.count >= 4 ? true : nil
            }
            #expect(try await cluster.emulator.requests().filter { $0.seq > mark && $0.isScalePatch }.isEmpty)
            #expect(try await cluster.replicas() == 1)

            // The other holder lets go: the operator takes over and restores minReplicas.
            lease = try #require(try await cluster.lease())
            spec = lease["spec"] as? JSONObject ?? [:]
            spec["leaseDurationSeconds"] = 1
            spec["renewTime"] = KubeTime.format(Date(timeIntervalSinceNow: -60))
            lease["spec"] = spec
            try await cluster.emulator.api("PUT", "/apis/coordination.k8s.io/v1/namespaces/default/leases/tig-operator", lease)
            try await eventually("replicas back to minReplicas under the new term", timeout: .seconds(30)) {
                try await cluster.replicas() == 2 ? true : nil
            }
            #expect(await op.stop() == 0)
        }
    }

    @Test func aTooManyRequestsAnswerIsRetriedAfterRetryAfter() async throws {
        try await TestCluster.with { cluster in
            try await cluster.setReplicas(1)
            try await cluster.emulator.addFault(method: "PATCH", path: "/deployments/tig/scale$", status: 429, retryAfter: 2)
            let op = try cluster.startOperator()
            try await eventually("replicas restored to minReplicas (log: \(op.process.outputPath))") {
                try await cluster.replicas() == 2 ? true : nil
            }
            let patches = try await cluster.emulator.requests().filter(\.isScalePatch).filter { $0.fault != nil || $0.status == 200 }
            let limited = try #require(patches.first { $0.status == 429 })
            let retried = try #require(patches.first { $0.seq > limited.seq && $0.status == 200 })
            #expect(retried.time - limited.time >= 1.9, "Retry-After: 2 was not honoured")
            #expect(await op.stop() == 0)
        }
    }

    @Test func serverErrorsAreRetried() async throws {
        try await TestCluster.with { cluster in
            try await cluster.setReplicas(1)
            try await cluster.emulator.addFault(method: "GET", path: "/deployments/tig/scale$", status: 500, count: 2)
            try await cluster.emulator.addFault(method: "PATCH", path: "/deployments/tig/scale$", status: 500)
            let op = try cluster.startOperator()
            try await eventually("replicas restored to minReplicas despite the 500s (log: \(op.process.outputPath))") {
                try await cluster.replicas() == 2 ? true : nil
            }
            let requests = try await cluster.emulator.requests()
            #expect(requests.filter { $0.status == 500 }.count == 3)
            #expect(op.events("kube-retry").count >= 3)
            #expect(await op.stop() == 0)
        }
    }

    @Test func refusesToStartBesideAnAutoscaler() async throws {
        try await TestCluster.with { cluster in
            try await cluster.createAutoscaler()
            let op = try cluster.startOperator()
            #expect(await op.process.waitForExit() == 1)
            #expect(op.log.contains("HorizontalPodAutoscaler tig-hpa targets Deployment default/tig"))
            #expect(try await cluster.operatorEvents().contains { $0.reason == "Refused" })
            #expect(try await cluster.emulator.requests().filter(\.isScalePatch).isEmpty)
        }
    }

    @Test func dryRunDecidesButDoesNotAct() async throws {
        try await TestCluster.with { cluster in
            try await cluster.setReplicas(1)
            let mark = try await cluster.emulator.requests().last?.seq ?? 0
            let op = try cluster.startOperator(["dryRun": "true"])
            try await eventually("a dry-run decision to raise replicas (log: \(op.process.outputPath))") {
                op.events("dry-run").contains { $0.contains("below minReplicas") } ? true : nil
            }
            let writes = try await cluster.emulator.requests().filter {
                $0.seq > mark && ($0.isScalePatch || ($0.method == "POST" && $0.path.hasSuffix("/events")))
            }
            #expect(writes.isEmpty)
            #expect(try await cluster.replicas() == 1)
            #expect(try await cluster.operatorEvents().isEmpty)
            #expect(await op.stop() == 0)
        }
    }

    @Test func sigtermReleasesTheLease() async throws {
        try await TestCluster.with { cluster in
            let op = try cluster.startOperator()
            try await eventually("leadership") {
                dig(try await cluster.lease(), "spec", "holderIdentity") as? String == OperatorProcess.identity ? true : nil
            }
            #expect(await op.stop() == 0)
            let lease = try await cluster.lease()
            #expect(dig(lease, "spec", "holderIdentity") == nil)
            #expect(dig(lease, "spec", "leaseDurationSeconds") as? Int == 1)
        }
    }

    @Test func authenticatesWithAClientCertificate() async throws {
        try await TestCluster.with { cluster in
            try await cluster.setReplicas(1)
            let op = try cluster.startOperator(
                kubeconfig: cluster.emulator.stateDirectory.appendingPathComponent("kubeconfig-certs").path)
            try await eventually("replicas restored with certificate authentication (log: \(op.process.outputPath))") {
                try await cluster.replicas() == 2 ? true : nil
            }
            #expect(await op.stop() == 0)
        }
    }

    @Test func aRotatedTokenFileIsReadAgain() async throws {
        try await TestCluster.with { cluster in
            let state = cluster.emulator.stateDirectory.path
            let kubeconfig = cluster.emulator.stateDirectory.appendingPathComponent("kubeconfig-token-file").path
            try """
                apiVersion: v1
                kind: Config
                current-context: test
                clusters:
                - name: emulator
                  cluster: {server: "\(cluster.emulator.url)", certificate-authority: "\(state)/ca.crt"}
                contexts:
                - name: test
                  context: {cluster: emulator, user: operator}
                users:
                - name: operator
                  user: {tokenFile: "\(state)/token"}
                """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            let op = try cluster.startOperator(kubeconfig: kubeconfig)
            try await eventually("leadership") { op.events("leader-acquired").isEmpty ? nil : true }
            // The old token stops working at once; only a client that re-reads the file carries on.
            try await cluster.emulator.admin("POST", "tokens/rotate", ["revokeOldAfterSeconds": 0])
            try await cluster.setReplicas(1)
            try await eventually("replicas restored with the rotated token (log: \(op.process.outputPath))") {
                try await cluster.replicas() == 2 ? true : nil
            }
            #expect(op.events("leader-lost").isEmpty)
            #expect(await op.stop() == 0)
        }
    }

    @Test func aBadConfigExitsNonZeroWithItsPosition() async throws {
        let directory = try TestEnvironment.temporaryDirectory("badconfig")
        let config = directory.appendingPathComponent("config.yaml").path
        try "deployment: tig\nminReplicas: 4\nmaxReplicas: 2\n".write(toFile: config, atomically: true, encoding: .utf8)
        let process = try ChildProcess(
            TestEnvironment.operatorBinary, ["--config", config, "--kubeconfig", "/nonexistent"],
            output: directory.appendingPathComponent("operator.log").path)
        #expect(await process.waitForExit() == 1)
        #expect(process.output.contains("line 2, column 14: minReplicas (4) is greater than maxReplicas (2)"), "\(process.output)")
        try FileManager.default.removeItem(at: directory)
    }

    /// Waits until the operator holds an open watch on the pods.
    private func waitForWatch(_ cluster: TestCluster) async throws {
        try await eventually("the operator's pod watch") {
            try await cluster.emulator.requests().contains { $0.isPodWatch && $0.status == 200 } ? true : nil
        }
    }
}
