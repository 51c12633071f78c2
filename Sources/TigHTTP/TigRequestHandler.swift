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
        /// A write whose body is streaming into the store.
        case receiving(Exchange, IncomingBlock)
        /// Already answered (refused early); the rest is ignored.
        case answered
    }

    private let server: ServerContext
    private var state = State.idle

    init(server: ServerContext) {
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            context.triggerUserOutboundEvent(RequestPhase.headReceived, promise: nil)
            begin(head, context: context)
        case .body(let buffer):
            receive(buffer)
        case .end:
            end()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A body that ends early stores nothing: dropping the unnamed file
        // leaves no trace.
        state = .answered
        context.fireChannelInactive()
    }

    private func begin(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let writer = ResponseWriter(context: context, server: server, head: head, started: .now()) { [weak self] _ in
            self?.state = .idle
            context.triggerUserOutboundEvent(RequestPhase.responseComplete, promise: nil)
        }
        let hasBody = Self.hasBody(head)
        do {
            let request = try accept(head, remoteIP: context.channel.remoteAddress?.ipAddress)
            let exchange = Exchange(request: request, writer: writer, server: server)
            if request.expectsBody {
                let incoming = try server.store.incoming(limit: server.limits.maxBlockSize)
                state = .receiving(exchange, incoming)
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

    private func receive(_ buffer: ByteBuffer) {
        guard case .receiving(let exchange, let incoming) = state else { return }
        server.metrics.bytesReceived.increment(by: Int64(buffer.readableBytes))
        do {
            try buffer.withUnsafeReadableBytes { try incoming.append($0) }
        } catch IncomingBlock.Failure.tooLarge {
            state = .answered
            exchange.writer.fail(.payloadTooLarge, close: true)
        } catch {
            state = .answered
            server.logger.error("store-failed", metadata: ["error": "\(error)"])
            exchange.writer.fail(Self.status(for: error), close: true)
        }
    }

    private func end() {
        switch state {
        case .pending(let exchange):
            state = .answered
            exchange.respond(body: nil)
        case .receiving(let exchange, let incoming):
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
            if let contentType = request.query.contentType, !MediaType.isValid(contentType) {
                throw Refusal(status: .badRequest)
            }
            return request
        case (.store, .PUT), (.store, .POST), (.block, .PUT), (.block, .POST), (.block, .DELETE):
            guard server.authority.mayWrite(presenting: request.query.apiKey) else { throw Refusal(status: .unauthorized) }
            if request.query.setIfNot && request.query.append { throw Refusal(status: .badRequest) }
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > server.limits.maxBlockSize {
                throw Refusal(status: .payloadTooLarge)
            }
            return request
        default:
            throw Refusal(status: .methodNotAllowed)
        }
    }

    private static func hasBody(_ head: HTTPRequestHead) -> Bool {
        if let length = head.headers.first(name: "content-length").flatMap(Int.init) { return length > 0 }
        return head.headers.contains(name: "transfer-encoding")
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
