import NIOCore

/// Times out each slow or stalled client on its own:
/// - once the first byte of a request arrives, its whole head must arrive
///   within the header timeout, however slowly it trickles (slowloris); the
///   client gets a 408;
/// - a connection with no read and no progress writing for the idle timeout
///   is closed (an idle keep-alive connection, a stalled upload, a reader that
///   stopped reading);
/// - a request body must arrive at the minimum body rate, measured over each
///   rate window while the server is reading it (not while it paused reading
///   itself); a trickled body gets a 408 (like nginx's `client_body_timeout`).
///
/// Activity only updates timestamps; one timer per connection re-checks them
/// a few times per timeout, so the request path never schedules or cancels
/// a timer.
final class ConnectionTimeoutHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private enum State {
        case waitingForRequest
        case receivingHead(deadline: NIODeadline)
        case inRequest
    }

    private let headerTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let minimumBodyRate: Int
    private let bodyRateWindow: TimeAmount
    private let checkInterval: TimeAmount
    private var state = State.waitingForRequest
    private var lastActivity = NIODeadline.now()
    private var timer: RepeatedTask?
    /// While a body is read: when the current rate window began and what
    /// arrived since.
    private var bodyWindow: (start: NIODeadline, bytes: Int)?

    /// Writes at least this large are watched for completion, so a long
    /// download that progresses is not mistaken for a stalled one.
    private static let trackedWriteSize = 64 * 1024

    init(limits: HTTPLimits) {
        self.headerTimeout = limits.headerTimeout
        self.idleTimeout = limits.idleTimeout
        self.minimumBodyRate = limits.minimumBodyRate
        self.bodyRateWindow = limits.bodyRateWindow
        let shortest = min(limits.headerTimeout, limits.idleTimeout, limits.bodyRateWindow)
        self.checkInterval = .nanoseconds(max(shortest.nanoseconds / 4, 1_000_000))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        bodyWindow?.bytes += unwrapInboundIn(data).readableBytes
        if case .waitingForRequest = state {
            // The head's deadline is fixed at its first byte: trickling more
            // bytes does not extend it.
            state = .receivingHead(deadline: lastActivity + headerTimeout)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard unwrapOutboundIn(data).readableBytes >= Self.trackedWriteSize else {
            context.write(data, promise: promise)
            return
        }
        let written = promise ?? context.eventLoop.makePromise()
        written.futureResult.assumeIsolated().whenSuccess { [weak self] in
            self?.lastActivity = .now()
        }
        context.write(data, promise: written)
    }

    /// The request handler reports request boundaries, which this handler,
    /// below the HTTP codec, cannot see: a whole head arrived...
    func headReceived() {
        lastActivity = .now()
        state = .inRequest
    }

    /// ...whether its body is being read (off while the server itself
    /// paused reading, and once the body ended)...
    func readingBody(_ reading: Bool) {
        bodyWindow = reading && minimumBodyRate > 0 ? (.now(), 0) : nil
    }

    /// ...and the answer was written.
    func responseComplete() {
        lastActivity = .now()
        bodyWindow = nil
        state = .waitingForRequest
    }

    private func start(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        lastActivity = .now()
        // The task holds the handler until `stop()` cancels it, which
        // channelInactive and handlerRemoved always do.
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: checkInterval, delay: checkInterval) { _ in
            bound.value.handler.check(context: bound.value.context)
        }
    }

    private func stop() {
        timer?.cancel()
        timer = nil
    }

    private func check(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        switch state {
        case .receivingHead(let deadline) where now >= deadline:
            answerTimeout(context: context)
        case _ where now - lastActivity >= idleTimeout:
            expire(context: context)
        default:
            checkBodyRate(now: now, context: context)
        }
    }

    private func checkBodyRate(now: NIODeadline, context: ChannelHandlerContext) {
        guard let window = bodyWindow, now - window.start >= bodyRateWindow else { return }
        let elapsed = now - window.start
        if Int64(window.bytes) * 1_000_000_000 < Int64(minimumBodyRate) * elapsed.nanoseconds {
            answerTimeout(context: context)
        } else {
            bodyWindow = (now, 0)
        }
    }

    /// 408 and close. Written below the HTTP codec: no answer has begun while
    /// a head or a body is still arriving.
    private func answerTimeout(context: ChannelHandlerContext) {
        var answer = context.channel.allocator.buffer(capacity: 96)
        answer.writeString("HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(answer)), promise: nil)
        expire(context: context)
    }

    private func expire(context: ChannelHandlerContext) {
        stop()
        context.close(promise: nil)
    }
}
