import AsyncHTTPClient
import NIOCore

/// The one HTTP client a command uses for all its servers, shut down when
/// the command's work is done (also when it fails).
public enum HTTPSession {
    /// Requests in flight per server: enough to hide round trips, few enough
    /// to bound memory (each may hold one chunk).
    static let parallelRequests = 8

    public static func run<Result>(_ body: (HTTPClient) async throws -> Result) async throws -> Result {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(60), write: .seconds(60))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: parallelRequests)
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
