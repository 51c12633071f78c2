import NIOCore
import NIOHTTP1
import NIOPosix
import TigHTTP

/// Body-less requests to peers (relayed reads, probes) over plain-HTTP
/// keep-alive connections of the pod's own event loops: each loop keeps its
/// idle connections per peer, so a relay is one write on a connection the
/// loop owns, with no locks, tasks or URL parsing on the way (AsyncHTTPClient
/// cost a relayed GET some 200 µs of CPU here; see README, cluster scaling).
///
/// A connection is reused only after a complete answer that allows it; an
/// idle one is closed after `idleTimeout` or when the peer closes it. A
/// repeatable request on a reused connection that closes before any answer
/// (the peer closed it idle as the request went out) is retried once on a
/// new connection.
final class PeerConnections: Sendable {
    private let pools: [ObjectIdentifier: NIOLoopBoundBox<Pool>]
    private let connectTimeout: TimeAmount

    /// How long a connection may wait for the next bytes of an answer, and
    /// stay idle in its pool.
    static let idleTimeout = TimeAmount.seconds(30)
    /// Idle connections kept per peer and event loop.
    static let idleLimit = 64

    /// nil when `group` is not one whose loops can be listed up front.
    init?(group: any EventLoopGroup, connectTimeout: TimeAmount) {
        guard let group = group as? MultiThreadedEventLoopGroup else { return nil }
        var pools: [ObjectIdentifier: NIOLoopBoundBox<Pool>] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = .makeBoxSendingValue(Pool(eventLoop: loop), eventLoop: loop)
        }
        self.pools = pools
        self.connectTimeout = connectTimeout
    }

    /// Sends `head` (no body) to `peer` on `eventLoop` and streams the answer
    /// into `sink` there; false when `eventLoop` has no pool here or this is
    /// not that loop's thread (the caller sends it another way: the pools
    /// are the loops' own). A `deadline` bounds the whole exchange.
    /// `classify` turns a failure into the one the sink is told of (and
    /// sees every failure, also one after the exchange ended).
    func send(
        _ head: HTTPRequestHead, to peer: Peer, on eventLoop: any EventLoop, deadline: NIODeadline?, repeatable: Bool,
        sink: any PeerAnswerSink, classify: @escaping (any Error) -> any Error
    ) -> Bool {
        guard eventLoop.inEventLoop, let pool = pools[ObjectIdentifier(eventLoop)] else { return false }
        let exchange = PeerExchange(head: head, sink: sink, classify: classify)
        pool.value.send(exchange, to: peer, connectTimeout: connectTimeout, deadline: deadline, repeatable: repeatable)
        return true
    }

    func closeAll() {
        for pool in pools.values {
            pool.eventLoop.execute { pool.value.closeAll() }
        }
    }
}

/// No answer came within the exchange's deadline.
struct PeerAnswerTimeout: Error {}

/// One event loop's idle connections, by peer.
private final class Pool {
    let eventLoop: any EventLoop
    private var idle: [Peer: [Channel]] = [:]
    /// After `closeAll`: connections in use close when their answer ends.
    private var closed = false

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func send(_ exchange: PeerExchange, to peer: Peer, connectTimeout: TimeAmount, deadline: NIODeadline?, repeatable: Bool) {
        if let deadline {
            exchange.timer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { exchange.fail(PeerAnswerTimeout()) }
        }
        while let channel = idle[peer]?.popLast() {
            guard channel.isActive else { continue }
            if repeatable {
                exchange.retry = { [self] exchange in connect(exchange, to: peer, timeout: connectTimeout) }
            }
            return start(exchange, on: channel, peer: peer)
        }
        connect(exchange, to: peer, timeout: connectTimeout)
    }

    private func connect(_ exchange: PeerExchange, to peer: Peer, timeout: TimeAmount) {
        guard !exchange.isFinished else { return }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.autoRead, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHTTPClientHandlers()
                    try sync.addHandlers([IdleStateHandler(readTimeout: PeerConnections.idleTimeout), PeerAnswerHandler()])
                }
            }
        let connected = if let address = try? SocketAddress(ipAddress: peer.host, port: peer.port) {
            bootstrap.connect(to: address)
        } else {
            bootstrap.connect(host: peer.host, port: peer.port)
        }
        connected.assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let channel):
                guard !exchange.isFinished else { return channel.close(promise: nil) }
                start(exchange, on: channel, peer: peer)
            case .failure(let error):
                exchange.fail(error)
            }
        }
    }

    private func start(_ exchange: PeerExchange, on channel: Channel, peer: Peer) {
        guard let handler = try? channel.pipeline.syncOperations.handler(type: PeerAnswerHandler.self) else {
            exchange.fail(ChannelError.ioOnClosedChannel)
            return channel.close(promise: nil)
        }
        exchange.done = { [self] reusable in
            guard reusable, !closed, channel.isActive, idle[peer, default: []].count < PeerConnections.idleLimit else {
                return channel.close(promise: nil)
            }
            idle[peer, default: []].append(channel)
            handler.waitIdle { [self] in idle[peer]?.removeAll { $0 === channel } }
        }
        handler.run(exchange)
    }

    func closeAll() {
        closed = true
        for channel in idle.values.joined() { channel.close(promise: nil) }
        idle = [:]
    }
}

/// One request and the answer streaming back to its sink.
private final class PeerExchange {
    let head: HTTPRequestHead
    private var sink: (any PeerAnswerSink)?
    private let classify: (any Error) -> any Error
    var timer: Scheduled<Void>?
    /// Sends the request again on a new connection, once: set while a
    /// repeatable one goes out on a reused connection.
    var retry: ((PeerExchange) -> Void)?
    /// Gives the connection back (true: it may carry the next request).
    var done: ((_ reusable: Bool) -> Void)?
    /// Whether the peer sent any part of the answer yet.
    var answered = false
    /// Sink futures not completed yet: no more is read until they are.
    var pending = 0

    init(head: HTTPRequestHead, sink: any PeerAnswerSink, classify: @escaping (any Error) -> any Error) {
        self.head = head
        self.sink = sink
        self.classify = classify
    }

    var isFinished: Bool { sink == nil }

    func answerHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>? {
        answered = true
        return sink?.peerAnswerHead(head)
    }

    func answerBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? {
        sink?.peerAnswerBody(buffer)
    }

    func finish(reusable: Bool) {
        guard let sink = end(reusable: reusable) else { return }
        sink.peerAnswerEnd()
    }

    func fail(_ error: any Error) {
        let classified = classify(error)
        guard let sink = end(reusable: false) else { return }
        sink.peerAnswerFailed(classified)
    }

    /// The connection closed or broke before the answer ended: a reused
    /// connection that carried no answer yet is replaced once.
    func broke(_ error: any Error) {
        guard !isFinished else { return }
        if !answered, let retry {
            self.retry = nil
            done = nil
            return retry(self)
        }
        fail(error)
    }

    private func end(reusable: Bool) -> (any PeerAnswerSink)? {
        guard let sink else { return nil }
        self.sink = nil
        retry = nil
        timer?.cancel()
        let done = self.done
        self.done = nil
        done?(reusable)
        return sink
    }
}

/// The last handler of a peer connection: passes the answer to the current
/// exchange, reading more only when the sink took what it was given.
private final class PeerAnswerHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    private var exchange: PeerExchange?
    /// When the current exchange went out: the idle timer counts from the
    /// last read, which on a reused connection is the previous answer.
    private var started = NIODeadline.now()
    private var keepAlive = false
    /// Called when an idle connection closes (it leaves its pool).
    private var closedIdle: (() -> Void)?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// The context keeps this handler and its pipeline (and so its event
    /// loop) alive: the reference must go when the channel closes.
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        let exchange = self.exchange
        self.exchange = nil
        exchange?.broke(ChannelError.ioOnClosedChannel)
        closedIdle = nil
    }

    func run(_ exchange: PeerExchange) {
        guard let context else { return exchange.fail(ChannelError.ioOnClosedChannel) }
        closedIdle = nil
        self.exchange = exchange
        started = .now()
        keepAlive = false
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.read()
    }

    /// Keeps reading while idle, so that the peer closing the connection is
    /// seen at once; `closed` runs when it is.
    func waitIdle(closed: @escaping () -> Void) {
        closedIdle = closed
        context?.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let exchange else {
            // Bytes on an idle connection: nothing asked for them.
            return context.close(promise: nil)
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            keepAlive = head.isKeepAlive
            wait(exchange.answerHead(head), for: exchange)
        case .body(let buffer):
            wait(exchange.answerBody(buffer), for: exchange)
        case .end:
            self.exchange = nil
            // Sink futures still pending hold back reads, not reuse: the
            // answer is complete, and the next exchange reads for itself.
            exchange.finish(reusable: keepAlive)
        }
    }

    /// Reads on when the sink took this part, unless the connection moved
    /// on to another exchange meanwhile; a part the sink could not take
    /// (its client went away) ends the exchange and the connection.
    private func wait(_ future: EventLoopFuture<Void>?, for owner: PeerExchange) {
        guard let future else { return }
        owner.pending += 1
        future.assumeIsolated().whenComplete { [self] result in
            owner.pending -= 1
            guard exchange === owner else { return }
            if case .failure(let error) = result {
                exchange = nil
                owner.fail(error)
                return context?.close(promise: nil) ?? ()
            }
            if owner.pending == 0 { context?.read() }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let exchange, exchange.pending == 0 { context.read() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is IdleStateHandler.IdleStateEvent else { return context.fireUserInboundEventTriggered(event) }
        // An exchange waits at least the whole timeout (and at most twice
        // it) for its first bytes, however long the connection was idle.
        if exchange != nil, NIODeadline.now() - started < PeerConnections.idleTimeout { return }
        exchange?.fail(PeerAnswerTimeout())
        exchange = nil
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let exchange = self.exchange
        self.exchange = nil
        exchange?.broke(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let exchange = self.exchange
        self.exchange = nil
        exchange?.broke(ChannelError.eof)
        closedIdle?()
        closedIdle = nil
        context.fireChannelInactive()
    }
}
