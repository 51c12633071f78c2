import Glibc
import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The listening HTTP(S) server: one NIO pipeline per connection, the
/// request handler at its end.
public final class TigServer: Sendable {
    private let server: ServerContext
    private let group: any EventLoopGroup
    private let quiescing: ServerQuiescingHelper
    private let channel: any Channel

    /// Binds and starts accepting connections for `listener`'s routes.
    public init(
        host: String, port: Int, tls: TLSIdentity?, listener: Listener = .blocks, server: ServerContext, group: any EventLoopGroup
    ) async throws {
        let quiescing = ServerQuiescingHelper(group: group)
        let limits = server.limits
        let logger = server.logger
        self.server = server
        self.group = group
        self.quiescing = quiescing
        self.channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Out of file descriptors (or memory), accepting again at
                    // once would spin: pause a second, say so, and keep
                    // serving the connections already open.
                    let backoff = AcceptBackoffHandler(shouldForwardIOErrorCaught: false) { error in
                        logger.warning("accept-paused", metadata: ["error": "\(error)", "retry-in": "1s"])
                        return .seconds(1)
                    }
                    try channel.pipeline.syncOperations.addHandler(backoff)
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // Reads start small and grow with the data: requests are small,
            // large bodies arrive in up to 1 MiB reads. At most 4 reads per
            // wake-up: what a pipelining client gets parsed ahead of its
            // answers is bounded by these two.
            .childChannelOption(.maxMessagesPerRead, value: 4)
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 1 << 20))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(NIOSSLServerHandler(context: tls.context))
                    }
                    let timeouts = ConnectionTimeoutHandler(limits: limits)
                    try pipeline.addHandler(timeouts)
                    // Outbound header validation is off: tig builds every header it sends
                    // from validated values (Content-Type is checked as a media type), or
                    // relays them from a peer, which is tig too.
                    try pipeline.configureHTTPServerPipeline(
                        withPipeliningAssistance: true, withErrorHandling: true, withOutboundHeaderValidation: false)
                    try pipeline.addHandler(ParserErrorStatus(), position: .before(pipeline.handler(type: HTTPServerProtocolErrorHandler.self)))
                    try pipeline.addHandler(TigRequestHandler(server: server, listener: listener, timeouts: timeouts))
                }
            }
            .bind(host: host, port: port)
            .flatMapErrorThrowing { error in
                throw StartError(what: "listen on", subject: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)", reason: "\(error)")
            }
            .get()
    }

    /// Why the server could not start, naming the address or the file
    /// (NIO's and BoringSSL's own errors name neither).
    public struct StartError: Error, CustomStringConvertible {
        let what: String
        let subject: String
        let reason: String

        public var description: String { "cannot \(what) \(subject): \(reason)" }

        /// Runs `load` on `file`; its failure names the file, and says why
        /// the file cannot be read when it cannot (BoringSSL only says it
        /// failed).
        static func naming<T>(_ file: String, as kind: String, _ load: () throws -> T) throws -> T {
            do {
                return try load()
            } catch {
                let unreadable = access(file, R_OK) == 0 ? nil : String(cString: strerror(errno))
                throw StartError(what: "load the \(kind)", subject: file, reason: unreadable ?? "\(error)")
            }
        }
    }

    /// Where the server listens (the real port when 0 was asked for).
    public var localAddress: SocketAddress? {
        channel.localAddress
    }

    /// Stops accepting connections, lets requests in flight finish, and
    /// completes when every connection has closed.
    public func shutdown() async throws {
        let promise = group.next().makePromise(of: Void.self)
        quiescing.initiateShutdown(promise: promise)
        try await promise.futureResult.get()
    }
}
