import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing
import TigHTTP
@testable import TigCluster

/// `PeerConnections`, the relay's transport, against a scripted HTTP peer on
/// loopback: connections are reused, one the peer dropped is replaced, and a
/// sink that does not keep up stops the reading.
@Suite(.serialized) struct PeerConnectionsTests {
    @Test func sequentialRequestsShareOneConnection() async throws {
        try await ScriptedServer.with(.answer(body: 1000)) { server, connections, loop in
            for _ in 0..<20 {
                let answer = try await Collected.send(through: connections, to: server.peer, on: loop).get()
                #expect(answer.status == .ok && answer.bytes == 1000)
            }
            #expect(server.accepted == 1)
        }
    }

    @Test func aConnectionDroppedBeforeItsAnswerIsReplacedOnce() async throws {
        try await ScriptedServer.with(.dropSecondRequest) { server, connections, loop in
            _ = try await Collected.send(through: connections, to: server.peer, on: loop).get()
            let answer = try await Collected.send(through: connections, to: server.peer, on: loop).get()
            #expect(answer.status == .ok)
            #expect(server.accepted == 2)
        }
    }

    /// A request that changes something (a `take`) may have been carried
    /// out before the connection broke: it is not sent again.
    @Test func aRequestThatIsNotRepeatableIsNotRetried() async throws {
        try await ScriptedServer.with(.dropSecondRequest) { server, connections, loop in
            _ = try await Collected.send(through: connections, to: server.peer, on: loop).get()
            await #expect(throws: (any Error).self) {
                try await Collected.send(through: connections, to: server.peer, on: loop, repeatable: false).get()
            }
            #expect(server.accepted == 1)
        }
    }

    @Test func aSinkThatDoesNotTakeMoreStopsTheReading() async throws {
        let size = 64 << 20
        try await ScriptedServer.with(.answer(body: size)) { server, connections, loop in
            let held = loop.makePromise(of: Void.self)
            let (sink, firstPart, answered) = try await loop.submit {
                let sink = Collected(promise: loop.makePromise(), holdFirstPart: held.futureResult)
                #expect(connections.send(request(), to: server.peer, on: loop, deadline: nil, repeatable: true, sink: sink, classify: { $0 }))
                return (NIOLoopBound(sink, eventLoop: loop), sink.firstPart.futureResult, sink.promise.futureResult)
            }.get()
            try await firstPart.get()
            // Not a wait for something to happen: the window in which a
            // reader that ignored the sink would have taken all 64 MiB
            // (loopback moves that in a few milliseconds).
            try await Task.sleep(for: .milliseconds(300))
            let delivered = try await loop.submit { sink.value.bytes }.get()
            #expect(delivered < 8 << 20, "\(delivered) bytes read while the sink held its first part")
            held.succeed()
            let answer = try await answered.get()
            #expect(answer.bytes == size)
        }
    }
}

private func request() -> HTTPRequestHead {
    HTTPRequestHead(version: .http1_1, method: .GET, uri: "/x", headers: ["host": "peer"])
}

/// Collects an answer; optionally holds its first body part until a future completes.
private final class Collected: PeerAnswerSink {
    let promise: EventLoopPromise<(status: HTTPResponseStatus, bytes: Int)>
    private let holdFirstPart: EventLoopFuture<Void>?
    private var status = HTTPResponseStatus.badGateway
    private(set) var bytes = 0
    private var parts = 0
    /// Completed when the first body part arrived.
    let firstPart: EventLoopPromise<Void>

    init(promise: EventLoopPromise<(status: HTTPResponseStatus, bytes: Int)>, holdFirstPart: EventLoopFuture<Void>? = nil) {
        self.promise = promise
        self.holdFirstPart = holdFirstPart
        self.firstPart = promise.futureResult.eventLoop.makePromise()
    }

    static func send(
        through connections: PeerConnections, to peer: Peer, on loop: any EventLoop, repeatable: Bool = true
    ) -> EventLoopFuture<(status: HTTPResponseStatus, bytes: Int)> {
        loop.flatSubmit {
            let sink = Collected(promise: loop.makePromise())
            #expect(connections.send(
                request(), to: peer, on: loop, deadline: .now() + .seconds(10), repeatable: repeatable, sink: sink, classify: { $0 }))
            return sink.promise.futureResult
        }
    }

    func peerAnswerHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        status = head.status
        return promise.futureResult.eventLoop.makeSucceededVoidFuture()
    }

    func peerAnswerBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        bytes += buffer.readableBytes
        parts += 1
        if parts == 1 { firstPart.succeed() }
        if parts == 1, let holdFirstPart { return holdFirstPart }
        return promise.futureResult.eventLoop.makeSucceededVoidFuture()
    }

    func peerAnswerEnd() {
        firstPart.succeed()
        promise.succeed((status, bytes))
    }

    func peerAnswerFailed(_ error: any Error) {
        firstPart.succeed()
        promise.fail(error)
    }
}

/// An HTTP peer on loopback that answers as scripted and counts the
/// connections it accepted.
private struct ScriptedServer: Sendable {
    enum Script: Sendable {
        /// 200 with a body of that many bytes, keep-alive.
        case answer(body: Int)
        /// Answers the first request on a connection; closes the connection on the second.
        case dropSecondRequest
    }

    let peer: Peer
    private let counter: NIOLockedValueBox<Int>

    var accepted: Int { counter.withLockedValue { $0 } }

    static func with(_ script: Script, _ body: (ScriptedServer, PeerConnections, any EventLoop) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let counter = NIOLockedValueBox(0)
        let listener = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                counter.withLockedValue { $0 += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ScriptedAnswerHandler(script: script))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(listener.localAddress?.port)
        let connections = try #require(PeerConnections(group: group, connectTimeout: .seconds(2)))
        let server = ScriptedServer(peer: Peer(host: "127.0.0.1", port: port), counter: counter)
        try await body(server, connections, group.next())
        connections.closeAll()
        try await listener.close()
        try await group.shutdownGracefully()
    }
}

private final class ScriptedAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let script: ScriptedServer.Script
    private var requests = 0

    init(script: ScriptedServer.Script) {
        self.script = script
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        requests += 1
        var size = 10
        switch script {
        case .dropSecondRequest where requests == 2: return context.close(promise: nil)
        case .dropSecondRequest: break
        case .answer(let body): size = body
        }
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-length": String(size)])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        let chunk = ByteBuffer(repeating: 0x61, count: 1 << 16)
        var left = size
        while left > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(chunk.getSlice(at: 0, length: min(left, chunk.readableBytes))!))), promise: nil)
            left -= min(left, chunk.readableBytes)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
