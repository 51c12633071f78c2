import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Certificate and key files for HTTPS.
public struct TLSFiles: Sendable {
    public let certificate: String
    public let key: String

    public init(certificate: String, key: String) {
        self.certificate = certificate
        self.key = key
    }
}

/// The listening HTTP(S) server: one NIO pipeline per connection, the
/// request handler at its end.
public final class TigServer: Sendable {
    private let server: ServerContext
    private let group: any EventLoopGroup
    private let quiescing: ServerQuiescingHelper
    private let channel: any Channel

    /// Binds and starts accepting connections.
    public init(host: String, port: Int, tls: TLSFiles?, server: ServerContext, group: any EventLoopGroup) async throws {
        let sslContext = try tls.map { files in
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: files.key, format: .pem)
            return try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
        }
        let quiescing = ServerQuiescingHelper(group: group)
        let limits = server.limits
        self.server = server
        self.group = group
        self.quiescing = quiescing
        self.channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let sslContext {
                        try pipeline.addHandler(NIOSSLServerHandler(context: sslContext))
                    }
                    try pipeline.addHandler(ConnectionTimeoutHandler(headerTimeout: limits.headerTimeout, idleTimeout: limits.idleTimeout))
                    try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: false)
                    try pipeline.addHandler(HTTPParseErrorHandler())
                    try pipeline.addHandler(TigRequestHandler(server: server))
                }
            }
            .bind(host: host, port: port)
            .get()
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

/// Answers a request the HTTP parser rejects: 431 when its head is too large,
/// 400 for anything else malformed, with an empty body; then closes.
final class HTTPParseErrorHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// A response has begun and not ended: an error answer cannot be added.
    private var responseInProgress = false

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if !responseInProgress {
            let status: HTTPResponseStatus = parseError == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest
            var headers = HTTPHeaders()
            headers.add(name: "content-length", value: "0")
            headers.add(name: "connection", value: "close")
            headers.add(name: "x-content-type-options", value: "nosniff")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.close(promise: nil)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200:
            responseInProgress = true
        case .end:
            responseInProgress = false
        default:
            break
        }
        context.write(data, promise: promise)
    }
}
