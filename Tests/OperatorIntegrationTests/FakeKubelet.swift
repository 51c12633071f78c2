import Foundation
import KubeClient
import Synchronization

/// Plays the kubelet for the emulator's pods, with real `tig serve`
/// processes: each new pod gets its own loopback address (127.0.0.x, all on
/// one port, as pods share the metrics port) and becomes Running and Ready
/// once its server answers `/healthz`; a pod marked for deletion is sent
/// SIGTERM (the server drains) and deleted once the process has exited.
final class FakeKubelet: Sendable {
    let port: Int
    private let emulator: KubeEmulator
    private let directory: URL
    private let state = Mutex(State())
    private let probe = CurlExecutor(threads: 2)

    private struct State: @unchecked Sendable {
        var servers: [String: (process: ChildProcess, ip: String)] = [:]
        var nextHost = 10
        var task: Task<Void, Never>?
        /// Pods whose server was stopped and whose object was deleted, in order.
        var deleted: [(uid: String, name: String)] = []
        /// For each deleted pod, how many other pods were Ready when it went.
        var readyOthersAtDeletion: [String: Int] = [:]
    }

    init(emulator: KubeEmulator, port: Int, directory: URL) {
        self.emulator = emulator
        self.port = port
        self.directory = directory
    }

    func start() {
        let task = Task { [self] in
            while !Task.isCancelled {
                do {
                    try await reconcile()
                } catch {
                    // The next round tries again; a failed round leaves nothing half done.
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        state.withLock { $0.task = task }
    }

    func stop() async {
        let (task, servers) = state.withLock { ($0.task, $0.servers.values.map(\.process)) }
        task?.cancel()
        await task?.value
        for server in servers { await server.stop(timeout: .seconds(5)) }
        try? await probe.shutdown()
    }

    /// The address of each running pod's server, by pod name.
    var addresses: [String: String] {
        get async throws {
            let pods = try await emulator.objects("pods")
            let servers = state.withLock { $0.servers }
            var result: [String: String] = [:]
            for pod in pods {
                if let uid = dig(pod, "metadata", "uid") as? String, let name = dig(pod, "metadata", "name") as? String,
                    let server = servers[uid]
                {
                    result[name] = server.ip
                }
            }
            return result
        }
    }

    /// Pods this kubelet deleted, in order.
    var deletedPods: [(uid: String, name: String)] { state.withLock { $0.deleted } }

    var readyOthersAtDeletion: [String: Int] { state.withLock { $0.readyOthersAtDeletion } }

    private func reconcile() async throws {
        let pods = try await emulator.objects("pods")
        for pod in pods {
            guard let uid = dig(pod, "metadata", "uid") as? String, let name = dig(pod, "metadata", "name") as? String,
                dig(pod, "spec", "nodeName") != nil
            else { continue }
            let running = state.withLock { $0.servers[uid] }
            if dig(pod, "metadata", "deletionTimestamp") != nil {
                let readyOthers = pods.filter { other in
                    dig(other, "metadata", "uid") as? String != uid && dig(other, "metadata", "deletionTimestamp") == nil
                        && (dig(other, "status", "conditions") as? [JSONObject] ?? []).contains {
                            $0["type"] as? String == "Ready" && $0["status"] as? String == "True"
                        }
                }.count
                if let running { await running.process.stop() }
                try await emulator.api("DELETE", "/api/v1/namespaces/default/pods/\(name)", ["gracePeriodSeconds": 0])
                state.withLock {
                    $0.servers[uid] = nil
                    $0.deleted.append((uid, name))
                    $0.readyOthersAtDeletion[uid] = readyOthers
                }
            } else if running == nil, dig(pod, "status", "phase") as? String == "Pending" {
                try await startServer(uid: uid, name: name)
            }
        }
    }

    private func startServer(uid: String, name: String) async throws {
        let ip = state.withLock { state -> String in
            state.nextHost += 1
            return "127.0.0.\(state.nextHost)"
        }
        let data = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let process = try ChildProcess(
            // `port` is the admin port the operator scrapes; blocks on the next.
            TestEnvironment.tigBinary, ["serve", "--listen", "\(ip):\(port + 1)", "--admin-listen", "\(ip):\(port)", "--data", data.path],
            output: directory.appendingPathComponent("\(name).log").path)
        state.withLock { $0.servers[uid] = (process, ip) }
        _ = try await eventually("tig serve for \(name) to answer on \(ip):\(port)", timeout: .seconds(10), every: .milliseconds(50)) {
            let response = try? await probe.perform(HTTPRequest(url: "http://\(ip):\(port)/healthz", timeout: 1, connectTimeout: 1))
            return response?.status == 200 ? true : nil
        }
        let now = ISO8601DateFormatter().string(from: Date())
        let status: JSONObject = [
            "status": [
                "phase": "Running", "podIP": ip, "podIPs": [["ip": ip]], "startTime": now,
                "conditions": [
                    ["type": "Initialized", "status": "True"], ["type": "Ready", "status": "True"],
                    ["type": "ContainersReady", "status": "True"], ["type": "PodScheduled", "status": "True"],
                ],
                "containerStatuses": [
                    ["name": "tig", "ready": true, "restartCount": 0, "started": true, "state": ["running": ["startedAt": now]]]
                ],
            ]
        ]
        try await emulator.api(
            "PATCH", "/api/v1/namespaces/default/pods/\(name)/status", status, contentType: "application/merge-patch+json")
    }
}
