import NIOCore
import NIOHTTP1
import TigStore

/// A parsed request head that tig accepted.
struct TigRequest {
    let head: HTTPRequestHead
    let target: RequestTarget
    /// A peer sent it: it is answered from this pod only.
    let isForwarded: Bool
    /// A peer asks for a channel's target: a channel here is refused.
    let refusesChannels: Bool
    /// A peer gathers listings: answer times with the paths.
    let listsTimes: Bool
    /// The client's IP address (an announcing peer must be who it says).
    let remoteIP: String?

    var method: HTTPMethod { head.method }
    var route: Route { target.route }
    var query: QueryParameters { target.query }
}

/// One connection's HTTP/1.1 request flow: validate the head, stream a write's
/// body into the store as it arrives, then hand the request to an `Exchange`
/// that answers it. Requests on a connection are handled one at a time (the
/// pipelining handler queues the next).
final class TigRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// Accepted; answered when the request ends.
        case pending(Exchange)
        /// A write whose body is streaming into the store (and, when large,
        /// being hashed on another core).
        case receiving(Exchange, IncomingBlock, BackgroundHasher?)
        /// Already answered (refused early); the rest is ignored.
        case answered
    }

    private let server: ServerContext
    private let timeouts: ConnectionTimeoutHandler
    private var state = State.idle
    /// The answer to the current request, until it is complete.
    private var answering: ResponseWriter?
    /// Reading is paused while a large body's hashing catches up.
    private var readingPaused = false

    init(server: ServerContext, timeouts: ConnectionTimeoutHandler) {
        self.server = server
        self.timeouts = timeouts
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            timeouts.headReceived()
            begin(head, context: context)
        case .body(let buffer):
            receive(buffer, context: context)
        case .end:
            end(context: context)
        }
    }

    /// A request the HTTP parser rejects gets 431 when its head is too large,
    /// 400 for anything else malformed (unless an answer has already begun),
    /// and the connection closes: the byte stream cannot be trusted after it.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        state = .answered
        if answering?.hasStarted != true {
            var headers = HTTPHeaders()
            headers.add(name: "content-length", value: "0")
            headers.add(name: "connection", value: "close")
            headers.add(name: "x-content-type-options", value: "nosniff")
            let status: HTTPResponseStatus = parseError == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A body that ends early stores nothing: dropping the unnamed file
        // leaves no trace.
        state = .answered
        context.fireChannelInactive()
    }

    private func begin(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let writer = ResponseWriter(context: context, server: server, head: head, started: .now()) { [unowned self] _ in
            state = .idle
            answering = nil
            timeouts.responseComplete()
        }
        answering = writer
        let hasBody = Self.hasBody(head)
        do {
            let request = try accept(head, remoteIP: context.channel.remoteAddress?.ipAddress)
            let exchange = Exchange(request: request, writer: writer, server: server)
            if request.expectsBody {
                let large = Self.declaredLength(head).map { $0 >= BackgroundHasher.minimumBodySize } ?? hasBody
                let incoming = try server.store.incoming(limit: server.limits.maxBlockSize, hashing: large ? .external : .inline)
                state = .receiving(exchange, incoming, large ? BackgroundHasher() : nil)
                if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                    context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
                }
            } else {
                state = .pending(exchange)
            }
        } catch let refusal as Refusal {
            state = .answered
            writer.fail(refusal.status, close: hasBody)
        } catch {
            state = .answered
            server.logger.error("receive-failed", metadata: ["error": "\(error)"])
            writer.fail(Self.status(for: error), close: hasBody)
        }
    }

    private func receive(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        guard case .receiving(let exchange, let incoming, let hasher) = state else { return }
        server.metrics.bytesReceived.increment(by: Int64(buffer.readableBytes))
        do {
            try buffer.withUnsafeReadableBytes { try incoming.append($0) }
            if let hasher, hasher.hash(buffer) > BackgroundHasher.readPauseThreshold, !readingPaused {
                pauseReading(until: hasher, context: context)
            }
        } catch IncomingBlock.Failure.tooLarge {
            state = .answered
            exchange.writer.fail(.payloadTooLarge, close: true)
        } catch {
            state = .answered
            server.logger.error("store-failed", metadata: ["error": "\(error)"])
            exchange.writer.fail(Self.status(for: error), close: true)
        }
    }

    private func end(context: ChannelHandlerContext) {
        switch state {
        case .pending(let exchange):
            state = .answered
            exchange.respond(body: nil)
        case .receiving(let exchange, let incoming, let hasher?):
            state = .answered
            hasher.finish(on: context.eventLoop).assumeIsolated().whenSuccess { digest in
                incoming.seal(digest)
                exchange.respond(body: incoming)
            }
        case .receiving(let exchange, let incoming, nil):
            state = .answered
            exchange.respond(body: incoming)
        case .idle, .answered:
            break
        }
    }

    // MARK: - Validation

    /// An early answer to a request that will not be served.
    struct Refusal: Error {
        let status: HTTPResponseStatus
    }

    /// Checks everything that can be checked from the head alone, so a bad
    /// write is refused before its body is read.
    private func accept(_ head: HTTPRequestHead, remoteIP: String?) throws -> TigRequest {
        guard head.uri.utf8.count <= RequestTarget.maximumLength else { throw Refusal(status: .uriTooLong) }
        let target: RequestTarget
        do {
            target = try RequestTarget(parsing: head.uri)
        } catch .badForm {
            throw Refusal(status: .badRequest)
        } catch {
            throw Refusal(status: .notFound)
        }
        let request = TigRequest(
            head: head, target: target,
            isForwarded: head.headers.contains(name: forwardedHeader),
            refusesChannels: head.headers.contains(name: noChannelHeader),
            listsTimes: head.headers.contains(name: listTimesHeader),
            remoteIP: remoteIP)
        switch (request.route, request.method) {
        case (.healthz, .GET), (.healthz, .HEAD), (.readyz, .GET), (.readyz, .HEAD), (.metrics, .GET), (.metrics, .HEAD):
            return request
        case (.store, .GET):
            return request
        case (.block, .GET), (.block, .HEAD):
            if request.query.take && request.query.burst { throw Refusal(status: .badRequest) }
            // `take` deletes: a mutation, so it needs the key like a write.
            if request.query.take, !server.authority.mayWrite(presenting: request.query.apiKey) {
                throw Refusal(status: .unauthorized)
            }
            if let contentType = request.query.contentType, !MediaType.isValid(contentType) {
                throw Refusal(status: .badRequest)
            }
            return request
        case (.store, .PUT), (.store, .POST), (.block, .PUT), (.block, .POST), (.block, .DELETE):
            guard server.authority.mayWrite(presenting: request.query.apiKey) else { throw Refusal(status: .unauthorized) }
            if request.query.setIfNot && request.query.append { throw Refusal(status: .badRequest) }
            if let length = Self.declaredLength(head), length > server.limits.maxBlockSize {
                throw Refusal(status: .payloadTooLarge)
            }
            return request
        default:
            throw Refusal(status: .methodNotAllowed)
        }
    }

    private static func hasBody(_ head: HTTPRequestHead) -> Bool {
        if let length = declaredLength(head) { return length > 0 }
        return head.headers.contains(name: "transfer-encoding")
    }

    private static func declaredLength(_ head: HTTPRequestHead) -> Int? {
        head.headers.first(name: "content-length").flatMap(Int.init)
    }

    /// Stops reading from the client until `hasher` has caught up.
    private func pauseReading(until hasher: BackgroundHasher, context: ChannelHandlerContext) {
        readingPaused = true
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        hasher.whenHalfCaughtUp(on: context.eventLoop) {
            bound.value.handler.readingPaused = false
            bound.value.context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        }
    }

    static func status(for error: any Error) -> HTTPResponseStatus {
        if let error = error as? StoreError, error.isOutOfSpace { return .insufficientStorage }
        return .internalServerError
    }
}

extension TigRequest {
    /// Writes stream their body into the store as it arrives.
    var expectsBody: Bool {
        method == .PUT || method == .POST
    }
}
