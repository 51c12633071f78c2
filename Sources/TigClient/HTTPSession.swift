import AsyncHTTPClient
import NIOCore
import NIOSSL

/// How the client checks an HTTPS server's certificate.
public struct TLSTrust: Sendable {
    /// PEM file of the certificate authorities to trust instead of the
    /// system's (`--cacert`, else `SSL_CERT_FILE`, as curl and OpenSSL read it).
    public var certificateAuthorities: String?
    /// No check at all (`--insecure`, curl's `-k`).
    public var insecure: Bool

    public init(certificateAuthorities: String? = nil, insecure: Bool = false) {
        self.certificateAuthorities = certificateAuthorities
        self.insecure = insecure
    }

    var configuration: TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let certificateAuthorities { tls.trustRoots = .file(certificateAuthorities) }
        if insecure { tls.certificateVerification = .none }
        return tls
    }
}

/// The one HTTP client a command uses for all its servers, shut down when
/// the command's work is done (also when it fails).
public enum HTTPSession {
    /// Requests in flight per server: enough to hide round trips, few enough
    /// to bound memory (each may hold one chunk).
    static let parallelRequests = 8

    public static func run<Result>(trust: TLSTrust = TLSTrust(), _ body: (HTTPClient) async throws -> Result) async throws -> Result {
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = trust.configuration
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(60), write: .seconds(60))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: parallelRequests)
        // A refused connection fails the request at once: `BlockServer`
        // retries what can be repeated, with pauses of its own (the pool
        // would otherwise retry connecting for as long as the deadline).
        configuration.connectionPool.retryConnectionEstablishment = false
        // A redirect would carry the API key to wherever it points.
        configuration.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }
}
