import Foundation
import Logging
import Synchronization

/// A Kubernetes API client over libcurl: authentication from a
/// `ClusterConnection`, JSON with Codable, timeouts and retries. The typed
/// calls the operator makes are in extensions, one file per resource.
public final class KubernetesClient: Sendable {
    public let connection: ClusterConnection
    public let executor: CurlExecutor
    let retry: RetryPolicy
    let requestTimeout: Double
    /// No call, retries included, runs past this (see `bounded(by:)`).
    let deadline: ContinuousClock.Instant?
    /// Until when the server asked us to wait (`Retry-After` on a 429 or
    /// 503), shared by every copy of this client: a call that gives up at
    /// its deadline must not let the next one knock sooner.
    let throttle: Throttle
    let logger: Logger

    public init(
        connection: ClusterConnection, executor: CurlExecutor, retry: RetryPolicy = RetryPolicy(),
        requestTimeout: Double = 10, deadline: ContinuousClock.Instant? = nil, logger: Logger
    ) {
        self.throttle = Throttle()
        self.connection = connection
        self.executor = executor
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.deadline = deadline
        self.logger = logger
    }

    /// The same client, with every call (each attempt's timeout and the
    /// waits between retries) ending by `deadline`: a leader's calls must not
    /// outlive its leadership. Nil: unbounded.
    public func bounded(by deadline: ContinuousClock.Instant?) -> KubernetesClient {
        KubernetesClient(self, deadline: deadline)
    }

    private init(_ client: KubernetesClient, deadline: ContinuousClock.Instant?) {
        connection = client.connection
        executor = client.executor
        retry = client.retry
        requestTimeout = client.requestTimeout
        throttle = client.throttle
        logger = client.logger
        self.deadline = deadline
    }

    /// Waits out a `Retry-After` still running, unless it ends after the deadline.
    private func waitForThrottle() async throws {
        let until = throttle.until
        guard until > .now else { return }
        if let deadline, until >= deadline { throw KubeAPIError.deadlineExceeded }
        try await Task.sleep(until: until)
    }

    /// Seconds left before the deadline, or the request timeout if sooner.
    private func attemptTimeout() throws -> Double {
        guard let deadline else { return requestTimeout }
        let left = deadline - .now
        guard left > .zero else { throw KubeAPIError.deadlineExceeded }
        return min(requestTimeout, Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18)
    }

    /// Sends a request and retries it per `RetryPolicy`. Returns the final
    /// answer if it is a success; throws `KubeAPIError.status` otherwise.
    func send(_ method: String, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil,
              contentType: String = "application/json") async throws -> HTTPResponse {
        var attempt = 0
        while true {
            try await waitForThrottle()
            let request = makeRequest(method, path, query: query, body: body, contentType: contentType, timeout: try attemptTimeout())
            let wait: Double
            do {
                let response = try await executor.perform(request)
                if (200..<300).contains(response.status) { return response }
                guard RetryPolicy.isRetryable(status: response.status), attempt + 1 < retry.maxAttempts else {
                    throw Self.apiError(response)
                }
                let retryAfter = RetryPolicy.retryAfter(response)
                wait = retry.delay(afterAttempt: attempt, retryAfter: retryAfter, random: .random(in: 0..<1))
                if retryAfter != nil { throttle.hold(until: .now + .seconds(wait)) }
                logger.notice("kube-retry", metadata: ["method": "\(method)", "path": "\(path)", "status": "\(response.status)", "wait": "\(wait)"])
            } catch let error as TransportError where error.isTransient && attempt + 1 < retry.maxAttempts {
                wait = retry.delay(afterAttempt: attempt, retryAfter: nil, random: .random(in: 0..<1))
                logger.notice("kube-retry", metadata: ["method": "\(method)", "path": "\(path)", "error": "\(error)", "wait": "\(wait)"])
            }
            if let deadline, ContinuousClock.now + .seconds(wait) >= deadline { throw KubeAPIError.deadlineExceeded }
            try await Task.sleep(for: .seconds(wait))
            attempt += 1
        }
    }

    func makeRequest(
        _ method: String, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil,
        contentType: String = "application/json", timeout: Double?
    ) -> HTTPRequest {
        var headers: [(name: String, value: String)] = [("Accept", "application/json"), ("User-Agent", "tig-operator")]
        if body != nil {
            headers.append(("Content-Type", contentType))
        }
        return HTTPRequest(
            method: method, url: connection.server + path + Self.queryString(query), headers: headers, body: body,
            credentials: connection.credentials, timeout: timeout, tls: connection.tls)
    }

    func decode<T: Decodable>(_ type: T.Type, from response: HTTPResponse) throws -> T {
        do {
            return try KubeJSON.decoder().decode(type, from: Data(response.body))
        } catch {
            throw KubeAPIError.malformed("\(T.self): \(error)")
        }
    }

    func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try KubeJSON.encoder().encode(value))
    }

    static func apiError(_ response: HTTPResponse) -> KubeAPIError {
        .status(code: response.status, try? KubeJSON.decoder().decode(Status.self, from: Data(response.body)))
    }

    /// Query values escaped to unreserved characters only: a label selector
    /// such as `app.kubernetes.io/name=tig` carries `=` and `,`.
    static func queryString(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        return "?" + query.map { name, value in "\(name)=\(segment(value))" }.joined(separator: "&")
    }

    /// One path segment (a namespace or object name), escaped.
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// The end of the server's last `Retry-After`.
final class Throttle: Sendable {
    private let state = Mutex(ContinuousClock.now)

    var until: ContinuousClock.Instant {
        state.withLock { $0 }
    }

    func hold(until instant: ContinuousClock.Instant) {
        state.withLock { $0 = max($0, instant) }
    }
}
