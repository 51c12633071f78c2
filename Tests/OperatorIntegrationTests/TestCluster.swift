import Foundation
import KubeClient
import Synchronization

/// One emulator, a fake kubelet running real `tig serve` pods, and the tig
/// Deployment, torn down after the test whatever happens. Everything the
/// test writes (state, logs) lives in one directory, kept when the test
/// fails (the failure messages name the logs) and removed when it passes.
struct TestCluster: Sendable {
    let directory: URL
    let emulator: KubeEmulator
    let kubelet: FakeKubelet
    let port: Int
    private let operators = Operators()

    /// Operators this test started, stopped at teardown even if the test threw.
    private final class Operators: Sendable {
        private let started = Mutex<[OperatorProcess]>([])

        func add(_ process: OperatorProcess) { started.withLock { $0.append(process) } }

        func stopAll() async {
            for process in started.withLock({ $0 }) where process.process.isRunning {
                _ = await process.stop()
            }
        }
    }

    static func with(replicas: Int = 2, _ body: (TestCluster) async throws -> Void) async throws {
        let directory = try TestEnvironment.temporaryDirectory("tig-operator-test")
        let emulator = try await KubeEmulator.start(in: directory.appendingPathComponent("kubeapi"))
        let port = Int.random(in: 20000...40000)
        let kubelet = FakeKubelet(emulator: emulator, port: port, directory: directory.appendingPathComponent("kubelet"))
        let cluster = TestCluster(directory: directory, emulator: emulator, kubelet: kubelet, port: port)
        kubelet.start()
        do {
            try await cluster.createDeployment(replicas: replicas)
            try await cluster.waitForReadyPods(replicas)
            try await body(cluster)
        } catch {
            await cluster.tearDown()
            throw error
        }
        await cluster.tearDown()
        try? FileManager.default.removeItem(at: directory)
    }

    private func tearDown() async {
        await operators.stopAll()
        await kubelet.stop()
        await emulator.stop()
    }

    /// Starts the real operator with `operatorConfig(port:overrides)`.
    func startOperator(
        _ overrides: [String: String] = [:], kubeconfig: String? = nil, identity: String = OperatorProcess.identity
    ) throws -> OperatorProcess {
        let process = try OperatorProcess(
            config: operatorConfig(port: port, overrides), kubeconfig: kubeconfig ?? emulator.kubeconfig,
            directory: directory.appendingPathComponent("operator-\(UUID().uuidString.prefix(4))"), identity: identity)
        operators.add(process)
        return process
    }

    func createDeployment(replicas: Int) async throws {
        let labels = ["app.kubernetes.io/name": "tig"]
        try await emulator.api(
            "POST", "/apis/apps/v1/namespaces/default/deployments",
            [
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "tig", "namespace": "default"],
                "spec": [
                    "replicas": replicas, "selector": ["matchLabels": labels],
                    "template": [
                        "metadata": ["labels": labels],
                        "spec": ["containers": [["name": "tig", "image": "tig:test"]]],
                    ],
                ],
            ])
    }

    static let autoscalers = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers"

    /// An HPA `tig-hpa` on the tig Deployment: the operator must refuse to run beside it.
    func createAutoscaler() async throws {
        try await emulator.api(
            "POST", Self.autoscalers,
            [
                "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": ["name": "tig-hpa"],
                "spec": [
                    "scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "tig"],
                    "minReplicas": 1, "maxReplicas": 3,
                ],
            ])
    }

    /// Live (not terminating) pods whose Ready condition is True.
    func readyPods() async throws -> [JSONObject] {
        try await emulator.objects("pods").filter { pod in
            dig(pod, "metadata", "deletionTimestamp") == nil
                && (dig(pod, "status", "conditions") as? [JSONObject] ?? []).contains {
                    $0["type"] as? String == "Ready" && $0["status"] as? String == "True"
                }
        }
    }

    @discardableResult
    func waitForReadyPods(_ count: Int, timeout: Duration = .seconds(30)) async throws -> [JSONObject] {
        try await eventually("\(count) ready pods", timeout: timeout) {
            let pods = try await readyPods()
            return pods.count == count ? pods : nil
        }
    }

    /// Read through the admin API, which faults never touch: a fault queued
    /// for the operator's next request must not be spent on the test's own.
    func replicas() async throws -> Int? {
        let deployment = try await emulator.objects("deployments").first { dig($0, "metadata", "name") as? String == "tig" }
        return dig(deployment, "spec", "replicas") as? Int
    }

    func setReplicas(_ replicas: Int) async throws {
        try await emulator.api(
            "PATCH", "/apis/apps/v1/namespaces/default/deployments/tig/scale", ["spec": ["replicas": replicas]],
            contentType: "application/merge-patch+json")
    }

    /// Events the operator posted, oldest first: (reason, message).
    func operatorEvents() async throws -> [(reason: String, message: String)] {
        try await emulator.objects("events")
            .filter { dig($0, "source", "component") as? String == "tig-operator" }
            .sorted { (dig($0, "metadata", "resourceVersion") as? String).flatMap(Int.init) ?? 0
                < (dig($1, "metadata", "resourceVersion") as? String).flatMap(Int.init) ?? 0 }
            .map { ($0["reason"] as? String ?? "", $0["message"] as? String ?? "") }
    }

    func lease() async throws -> JSONObject? {
        try await emulator.objects("leases").first { dig($0, "metadata", "name") as? String == "tig-operator" }
    }

    /// Sends `count` requests to a pod's server: its work counter goes up.
    func load(ip: String, count: Int) async throws {
        let executor = CurlExecutor(threads: 4)
        do {
            try await send(count, to: ip, with: executor)
        } catch {
            try? await executor.shutdown()
            throw error
        }
        try await executor.shutdown()
    }

    private func send(_ count: Int, to ip: String, with executor: CurlExecutor) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for index in stride(from: worker, to: count, by: 4) {
                        _ = try await executor.perform(
                            HTTPRequest(url: "http://\(ip):\(port)/\(String(repeating: "0", count: 63))\(index % 10).tig", timeout: 5))
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
