import NIOCore
import NIOHTTP1
import TigStore

/// One connection's HTTP/1.1 request flow: validate the head, stream a write's
/// body into the store as it arrives, then hand the request to an `Exchange`
/// that answers it. Requests on a connection are handled one at a time (the
/// pipelining handler queues the next, and stops reading meanwhile).
///
/// Memory per connection stays bounded however a client pipelines: the next
/// request starts only once the channel is writable again (its unsent
/// answers are below the high-water mark), and a request that NIO delivers
/// while the previous answer is being written (it arrives synchronously
/// inside that write) is started from the event loop afterwards, not
/// recursively.
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

    let server: ServerContext
    let listener: Listener
    private let timeouts: ConnectionTimeoutHandler
    private var state = State.idle
    /// Reading is paused while a large body's hashing catches up.
    private var readingPaused = false
    /// Parts of the next request, held until it may start.
    private var deferred = CircularBuffer<HTTPServerRequestPart>()
    /// A part is being handled: a request arriving now is re-entrant.
    private var dispatching = false
    /// The client's address as text, spelled once per connection (not per request).
    private var remoteIP: String?
    private var resumeScheduled = false

    init(server: ServerContext, listener: Listener, timeouts: ConnectionTimeoutHandler) {
        self.server = server
        self.listener = listener
        self.timeouts = timeouts
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // An accepted channel knows its peer's address from the start.
        remoteIP = context.channel.remoteAddress?.ipAddress
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if deferred.isEmpty, case .head = part, dispatching || !context.channel.isWritable {
            deferred.append(part)
            scheduleResume(context: context)
        } else if !deferred.isEmpty {
            deferred.append(part)
        } else {
            dispatch(part, context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { resume(context: context) }
        context.fireChannelWritabilityChanged()
    }

    private func dispatch(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        dispatching = true
        defer { dispatching = false }
        switch part {
        case .head(let head):
            timeouts.headReceived()
            begin(head, context: context)
        case .body(let buffer):
            receive(buffer, context: context)
        case .end:
            end(context: context)
        }
    }

    /// Starts the held request from the event loop, once the channel can
    /// take its answer (a writability change resumes it otherwise).
    private func scheduleResume(context: ChannelHandlerContext) {
        guard context.channel.isWritable, !resumeScheduled else { return }
        resumeScheduled = true
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            bound.value.handler.resumeScheduled = false
            bound.value.handler.resume(context: bound.value.context)
        }
    }

    /// Handles held parts in order, iteratively: a request that completes at
    /// once lets NIO deliver the next, which is held and taken by this loop.
    private func resume(context: ChannelHandlerContext) {
        while let part = deferred.first {
            if case .head = part, !context.channel.isWritable || !context.channel.isActive { return }
            deferred.removeFirst()
            dispatch(part, context: context)
        }
    }

    /// A request the HTTP parser rejects has been answered by NIO's
    /// protocol-error handler (or `ParserErrorStatus`); the connection
    /// closes: the byte stream cannot be trusted after it.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        state = .answered
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A body that ends early stores nothing: dropping the unnamed file
        // leaves no trace.
        state = .answered
        deferred.removeAll()
        context.fireChannelInactive()
    }

    private func begin(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let writer = ResponseWriter(context: context, server: server, head: head, started: .now()) { [unowned self] _ in
            state = .idle
            timeouts.responseComplete()
        }
        var hasBody = head.headers.contains(name: "transfer-encoding") || head.headers.contains(name: "content-length")
        do {
            let framing = try BodyFraming(head.headers)
            hasBody = framing.hasBody
            let request = try admit(head, framing: framing, remoteIP: remoteIP)
            let exchange = Exchange(request: request, writer: writer, server: server)
            if request.expectsBody {
                let large = framing.declaredLength.map { $0 >= UInt64(BackgroundHasher.minimumBodySize) } ?? framing.isChunked
                let incoming = try server.store.incoming(limit: server.limits.maxBlockSize, hashing: large ? .external : .inline)
                state = .receiving(exchange, incoming, large ? BackgroundHasher() : nil)
                timeouts.readingBody(true)
                if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                    context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
                }
            } else {
                state = .pending(exchange)
            }
        } catch {
            state = .answered
            // A body that will not be read leaves the connection unusable.
            let failure = HTTPFailure(error)
            writer.fail(HTTPFailure(failure.status, closesConnection: failure.closesConnection || hasBody))
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
        } catch {
            state = .answered
            // The rest of the body will not be read.
            let failure = HTTPFailure(error)
            exchange.writer.fail(HTTPFailure(failure.status, closesConnection: true))
        }
    }

    private func end(context: ChannelHandlerContext) {
        timeouts.readingBody(false)
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

    /// Stops reading from the client until `hasher` has caught up.
    private func pauseReading(until hasher: BackgroundHasher, context: ChannelHandlerContext) {
        readingPaused = true
        timeouts.readingBody(false)
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        hasher.whenHalfCaughtUp(on: context.eventLoop) {
            bound.value.handler.readingPaused = false
            bound.value.handler.timeouts.readingBody(true)
            bound.value.context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        }
    }
}
