import Foundation
import KubeClient
import Testing

typealias JSONObject = [String: Any]

/// Reads a value at a path in decoded JSON: `dig(pod, "metadata", "name")`.
func dig(_ value: Any?, _ path: String...) -> Any? {
    path.reduce(value) { ($0 as? JSONObject)?[$1] }
}

/// The Kubernetes API emulator of `e2e/kubeapi` in a child process: real
/// HTTPS, a state directory with kubeconfig and token, and the admin API
/// (faults, request log, watch drops, compaction, object dumps).
final class KubeEmulator: Sendable {
    let stateDirectory: URL
    let url: String
    private let process: ChildProcess
    private let executor = CurlExecutor(threads: 2)

    var kubeconfig: String { stateDirectory.appendingPathComponent("kubeconfig").path }
    private var tls: TLSSettings { TLSSettings(certificateAuthority: .file(stateDirectory.appendingPathComponent("ca.crt").path)) }

    static func start(in directory: URL) async throws -> KubeEmulator {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = try ChildProcess(
            "/usr/bin/env", ["python3", "-m", "e2e.kubeapi", "--state-dir", directory.path],
            directory: TestEnvironment.repositoryRoot, output: directory.appendingPathComponent("emulator.log").path)
        let portFile = directory.appendingPathComponent("port").path
        let port = try await eventually("the emulator to write its port (log: \(process.outputPath))", timeout: .seconds(20)) {
            try? String(contentsOfFile: portFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return KubeEmulator(stateDirectory: directory, url: "https://127.0.0.1:\(port)", process: process)
    }

    private init(stateDirectory: URL, url: String, process: ChildProcess) {
        self.stateDirectory = stateDirectory
        self.url = url
        self.process = process
    }

    /// SIGTERM; the emulator does not always exit on it promptly (aiohttp
    /// waits for open connections), so it is killed after a short grace.
    func stop() async {
        await process.stop(timeout: .seconds(2))
        try? await executor.shutdown()
    }

    // MARK: The Kubernetes API, as a client with the emulator's token

    @discardableResult
    func api(_ method: String, _ path: String, _ body: JSONObject? = nil, contentType: String = "application/json") async throws -> JSONObject {
        let token = try String(contentsOf: stateDirectory.appendingPathComponent("token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return try await call(method, path, body, headers: [("Authorization", "Bearer \(token)"), ("Content-Type", contentType)])
    }

    // MARK: The admin API

    @discardableResult
    func admin(_ method: String, _ path: String, _ body: Any? = nil) async throws -> JSONObject {
        try await call(method, "/_emulator/" + path, body, headers: [("Content-Type", "application/json")])
    }

    /// Queues a fault for the next `count` requests matching `method` and the `path` regex.
    /// `delayMs` alone: the request waits that long before it is served (a hung server).
    func addFault(method: String, path: String, query: String? = nil, status: Int? = nil, retryAfter: Int? = nil,
                  drop: Bool = false, delayMs: Int = 0, count: Int = 1) async throws {
        var spec: JSONObject = ["method": method, "path": path, "drop": drop, "delayMs": delayMs, "count": count]
        spec["query"] = query
        spec["status"] = status
        spec["retryAfter"] = retryAfter
        try await admin("POST", "faults", spec)
    }

    /// Every API request so far, in order.
    func requests() async throws -> [LoggedRequest] {
        let entries = try await admin("GET", "requests")["requests"] as? [JSONObject] ?? []
        return entries.map(LoggedRequest.init)
    }

    /// A credential of its own for one more client (a second operator
    /// replica), so the request log tells them apart; returns its kubeconfig.
    func mintCredential(_ name: String) async throws -> String {
        let minted = try await admin("POST", "tokens", ["name": name])
        return try #require(minted["kubeconfig"] as? String)
    }

    func objects(_ resource: String, namespace: String = "default") async throws -> [JSONObject] {
        let dump = try await admin("GET", "objects?resource=\(resource)&namespace=\(namespace)")
        return dig(dump, "objects", resource) as? [JSONObject] ?? []
    }

    private func call(_ method: String, _ path: String, _ body: Any?, headers: [(name: String, value: String)]) async throws -> JSONObject {
        let bytes = try body.map { Array(try JSONSerialization.data(withJSONObject: $0)) }
        let response = try await executor.perform(
            HTTPRequest(method: method, url: url + path, headers: headers, body: bytes, timeout: 10, tls: tls))
        guard (200..<300).contains(response.status) else {
            throw EmulatorError(description: "\(method) \(path): HTTP \(response.status) \(String(decoding: response.body, as: UTF8.self))")
        }
        return (try? JSONSerialization.jsonObject(with: Data(response.body))) as? JSONObject ?? [:]
    }
}

struct EmulatorError: Error, CustomStringConvertible {
    var description: String
}

/// One entry of the emulator's request log.
struct LoggedRequest: Sendable {
    var seq: Int
    var time: Double
    var method: String
    var path: String
    var query: String
    var watch: Bool
    /// An HTTP code, or nil for a dropped connection.
    var status: Int?
    var fault: Int?
    /// The name of the token (or "client-certificate") that authenticated it.
    var credential: String?
    /// The client's address and port: one TCP connection.
    var remote: String?
    /// What the authorizer is asked: `get`, `deployments/scale`, `apps`.
    var verb: String
    var resource: String
    var apiGroup: String

    init(_ entry: JSONObject) {
        seq = entry["seq"] as? Int ?? 0
        time = entry["time"] as? Double ?? 0
        method = entry["method"] as? String ?? ""
        path = entry["path"] as? String ?? ""
        query = entry["query"] as? String ?? ""
        watch = entry["watch"] as? Bool ?? false
        status = entry["status"] as? Int
        fault = entry["fault"] as? Int
        credential = entry["credential"] as? String
        remote = entry["remote"] as? String
        verb = entry["verb"] as? String ?? ""
        resource = entry["resource"] as? String ?? ""
        apiGroup = entry["apiGroup"] as? String ?? ""
    }

    /// The value of one query parameter (decoded).
    func parameter(_ name: String) -> String? {
        URLComponents(string: "/?" + query)?.queryItems?.first { $0.name == name }?.value
    }

    var isPodList: Bool { method == "GET" && path.hasSuffix("/pods") && !watch }
    var isPodWatch: Bool { method == "GET" && path.hasSuffix("/pods") && watch }
    var isScalePatch: Bool { method == "PATCH" && path.hasSuffix("/scale") }
    /// A change the operator makes as leader: replicas, pod marks, Events.
    var isAction: Bool {
        isScalePatch || (method == "PATCH" && path.contains("/pods/")) || (method == "POST" && path.hasSuffix("/events"))
    }
    /// A successful create or update of the operator's Lease: who held it then.
    var isLeaseWrite: Bool {
        (method == "PUT" && path.hasSuffix("/leases/tig-operator") || method == "POST" && path.hasSuffix("/leases"))
            && (status == 200 || status == 201)
    }
}
