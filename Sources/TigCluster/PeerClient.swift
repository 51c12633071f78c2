import AsyncHTTPClient
import Glibc
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import TigAddress
import TigHTTP
import TigStore

/// HTTP to the other pods: probes and forwarded requests, over pooled,
/// reused connections on the server's event loops, each with the proof that
/// it comes from a member. Body-less requests over plain HTTP (relayed reads
/// and probes, the hot path) go over `PeerConnections`; writes, pushes,
/// announcements and HTTPS peers over AsyncHTTPClient, which streams bodies
/// and speaks TLS.
///
/// Requests name the event loop of their delegate only (`.delegate(on:)`),
/// never the channel's too: AsyncHTTPClient closes a connection it opened
/// for a required event loop as soon as it is idle, so on a pod with two
/// loops every other relayed request paid a TCP handshake (measured: one new
/// connection per request, 1,774 relayed GETs/s on one client connection).
public final class PeerClient: Sendable {
    private let client: HTTPClient
    private let connections: PeerConnections?
    private let scheme: String
    private let credentials: PeerCredentials
    private let probeTimeout: TimeAmount
    /// Told of a peer that could not be reached, so nothing waits on it.
    private let unreachable: @Sendable (Peer) -> Void

    /// - Parameters:
    ///   - tls: peers speak HTTPS (they share this pod's configuration).
    ///   - verifyCertificates: check peer certificates; off by default inside
    ///     a cluster, where pods present the public name's certificate.
    public init(
        group: any EventLoopGroup, tls: Bool, verifyCertificates: Bool, credentials: PeerCredentials, probeTimeout: TimeAmount,
        unreachable: @escaping @Sendable (Peer) -> Void
    ) {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: probeTimeout, read: .seconds(30)),
            decompression: .disabled)
        if tls && !verifyCertificates {
            configuration.tlsConfiguration = .makeClientConfiguration()
            configuration.tlsConfiguration?.certificateVerification = .none
        }
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        self.client = HTTPClient(eventLoopGroup: group, configuration: configuration)
        self.connections = tls ? nil : PeerConnections(group: group, connectTimeout: probeTimeout)
        self.scheme = tls ? "https" : "http"
        self.credentials = credentials
        self.probeTimeout = probeTimeout
        self.unreachable = unreachable
    }

    public var eventLoopGroup: any EventLoopGroup {
        client.eventLoopGroup
    }

    public func shutdown() async throws {
        connections?.closeAll()
        try await client.shutdown()
    }

    private func request(_ method: HTTPMethod, _ uri: String, on peer: Peer, refuseChannels: Bool = false, listTimes: Bool = false) throws -> HTTPClient.Request {
        try HTTPClient.Request(
            url: "\(scheme)://\(peer)\(uri)", method: method,
            headers: headers(method, uri, refuseChannels: refuseChannels, listTimes: listTimes))
    }

    private func headers(_ method: HTTPMethod, _ uri: String, refuseChannels: Bool = false, listTimes: Bool = false) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: peerAuthHeader, value: credentials.proof(method: method, uri: uri))
        if refuseChannels { headers.add(name: noChannelHeader, value: "1") }
        if listTimes { headers.add(name: listTimesHeader, value: "1") }
        return headers
    }

    /// Sends a body-less request over `connections`; false when it cannot
    /// go that way (HTTPS peers, a loop of another group, a caller off the
    /// loop).
    private func sendBodiless(
        _ method: HTTPMethod, _ uri: String, headers: HTTPHeaders, to peer: Peer, on eventLoop: any EventLoop, deadline: NIODeadline?,
        repeatable: Bool, sink: any PeerAnswerSink
    ) -> Bool {
        guard let connections else { return false }
        var headers = headers
        headers.add(name: "host", value: peer.description)
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers)
        return connections.send(
            head, to: peer, on: eventLoop, deadline: deadline, repeatable: repeatable, sink: sink, classify: classifier(for: peer))
    }

    /// What a failure means to the caller: a peer that could not be reached
    /// is reported (so nothing waits on it) and its failure says so.
    private func classifier(for peer: Peer) -> @Sendable (any Error) -> any Error {
        { [unreachable] error in
            guard Self.isUnreachable(error) else { return error }
            unreachable(peer)
            return PeerUnreachable(peer: peer, underlying: error)
        }
    }

    public enum Probe: Sendable {
        case holds
        case absent
        /// No answer within the probe timeout: busy, perhaps, not gone.
        case slow
        /// The connection broke before the answer (closed or reset while
        /// asking, as when the peer exits): it may or may not hold it.
        case broken
        /// The connection failed: refused, reset, no route.
        case unreachable
    }

    /// Asks `peer` whether it holds `address` (a forwarded HEAD, answered
    /// from its own store only), waiting the probe timeout for the answer;
    /// with `patience`, that long, asking again (up to `brokenRetries`
    /// times, `brokenPause` apart) while the connection breaks: a peer that
    /// exits breaks every connection it had, and refuses the next ones.
    public func probe(_ address: BlockAddress, peer: Peer, within patience: TimeAmount? = nil, on eventLoop: any EventLoop) -> EventLoopFuture<Probe> {
        let deadline = NIODeadline.now() + (patience ?? probeTimeout)
        @Sendable func ask(retries: Int) -> EventLoopFuture<Probe> {
            probe(address, peer: peer, until: deadline, on: eventLoop).flatMap { probe in
                guard probe == .broken, retries > 0, NIODeadline.now() + Self.brokenPause < deadline else {
                    return eventLoop.makeSucceededFuture(probe)
                }
                return eventLoop.flatScheduleTask(in: Self.brokenPause) { ask(retries: retries - 1) }.futureResult
            }
        }
        return ask(retries: patience == nil ? 0 : Self.brokenRetries)
    }

    static let brokenRetries = 5
    static let brokenPause = TimeAmount.milliseconds(50)

    private func probe(_ address: BlockAddress, peer: Peer, until deadline: NIODeadline, on eventLoop: any EventLoop) -> EventLoopFuture<Probe> {
        let answer = ProbeSink(promise: eventLoop.makePromise())
        if sendBodiless(
            .HEAD, address.path, headers: headers(.HEAD, address.path), to: peer, on: eventLoop, deadline: deadline, repeatable: true,
            sink: answer) {
            return answer.promise.futureResult.map { $0 == .ok ? Probe.holds : Probe.absent }.recover { error in
                if error is PeerUnreachable { return .unreachable }
                return NIODeadline.now() < deadline ? .broken : .slow
            }
        }
        // The pool did not take it: settle the promise nobody will complete.
        answer.peerAnswerFailed(ChannelError.ioOnClosedChannel)
        do {
            let probe = try request(.HEAD, address.path, on: peer)
            return client.execute(request: probe, eventLoop: .delegate(on: eventLoop), deadline: deadline)
                .map { $0.status == .ok ? Probe.holds : Probe.absent }
                .recover { [unreachable] error in
                    guard Self.isUnreachable(error) else { return NIODeadline.now() < deadline ? .broken : .slow }
                    unreachable(peer)
                    return .unreachable
                }
        } catch {
            return eventLoop.makeSucceededFuture(.unreachable)
        }
    }

    /// Tells `peer` that this pod, at `identity`, is ready, draining or gone;
    /// fails when it cannot be reached (it is then down).
    public func announce(_ identity: Peer, state: PeerState, to peer: Peer) -> EventLoopFuture<Void> {
        do {
            var announcement = try request(.HEAD, "/healthz", on: peer)
            announcement.headers.add(name: peerHeader, value: identity.description)
            announcement.headers.add(name: peerStateHeader, value: state.rawValue)
            return client.execute(request: announcement, deadline: .now() + probeTimeout)
                .map { _ in }
                .flatMapErrorThrowing { [unreachable] error in
                    if Self.isUnreachable(error) { unreachable(peer) }
                    throw error
                }
        } catch {
            return client.eventLoopGroup.next().makeFailedFuture(error)
        }
    }

    /// Sends `request` to `peer` and streams the answer into `sink` on
    /// `eventLoop`, with backpressure both ways.
    public func send(_ request: PeerRequest, to peer: Peer, on eventLoop: any EventLoop, sink: any PeerAnswerSink) {
        var headers = headers(request.method, request.uri, refuseChannels: request.refuseChannels, listTimes: request.listTimes)
        if let key = request.apiKey { headers.add(name: "authorization", value: "Bearer " + key) }
        headers.add(contentsOf: request.passedOn)
        if request.body == nil,
           sendBodiless(
               request.method, request.uri, headers: headers, to: peer, on: eventLoop, deadline: nil, repeatable: request.repeatable,
               sink: sink) {
            return
        }
        let delegate = SinkDelegate(sink: NIOLoopBound(sink, eventLoop: eventLoop), failed: classifier(for: peer))
        do {
            var outgoing = try HTTPClient.Request(url: "\(scheme)://\(peer)\(request.uri)", method: request.method, headers: headers)
            if let body = request.body {
                outgoing.body = try Self.stream(body.reopen(), on: eventLoop)
            }
            _ = client.execute(request: outgoing, delegate: delegate, eventLoop: .delegate(on: eventLoop))
        } catch {
            sink.peerAnswerFailed(error)
        }
    }

    /// Sends a stored block, from `offset` to its end, to `peer` (a forwarded
    /// request, so the peer keeps it) and returns the answer's status and
    /// text. `body` stays open for the caller.
    public func push(
        _ method: HTTPMethod, _ uri: String, body: BlockFile, from offset: Int = 0, to peer: Peer, refuseChannels: Bool
    ) async throws -> (status: HTTPResponseStatus, text: String) {
        let eventLoop = client.eventLoopGroup.next()
        var outgoing = try request(method, uri, on: peer, refuseChannels: refuseChannels)
        outgoing.body = Self.stream(try body.duplicate(), from: offset, on: eventLoop)
        do {
            let response = try await client.execute(request: outgoing, eventLoop: .delegate(on: eventLoop)).get()
            return (response.status, response.body.map { String(buffer: $0) } ?? "")
        } catch {
            if Self.isUnreachable(error) { unreachable(peer) }
            throw error
        }
    }

    /// Whether an error means the peer cannot be reached at all (nothing
    /// listens, the connection was reset, or connecting timed out), rather
    /// than that it is slow or answered badly.
    static func isUnreachable(_ error: any Error) -> Bool {
        switch error {
        case let error as HTTPClientError:
            return error == .connectTimeout
        case is NIOConnectionError:
            return true
        case let error as IOError:
            return [ECONNREFUSED, ECONNRESET, EHOSTUNREACH, ENETUNREACH, ETIMEDOUT].contains(error.errnoCode)
        case let error as ChannelError:
            if case .connectTimeout = error { return true }
            return false
        default:
            return false
        }
    }

    /// A stored body, from `start` to its end, sent in slices, each read when
    /// the connection is ready for it.
    static func stream(_ file: BlockFile, from start: Int = 0, on eventLoop: any EventLoop) -> HTTPClient.Body {
        let owned = OwnedFile(file)
        return .stream(contentLength: Int64(file.size - start)) { writer in
            let allocator = ByteBufferAllocator()
            @Sendable func send(from offset: Int) -> EventLoopFuture<Void> {
                guard offset < owned.file.size else { return eventLoop.makeSucceededVoidFuture() }
                do {
                    let slice = try allocator.read(owned.file, at: offset, count: min(1 << 18, owned.file.size - offset))
                    return writer.write(.byteBuffer(slice)).flatMap { send(from: offset + slice.readableBytes) }
                } catch {
                    return eventLoop.makeFailedFuture(error)
                }
            }
            return send(from: start)
        }
    }
}

/// A probe's answer: its status, once the answer ended.
final class ProbeSink: PeerAnswerSink {
    let promise: EventLoopPromise<HTTPResponseStatus>
    private var status: HTTPResponseStatus?

    init(promise: EventLoopPromise<HTTPResponseStatus>) {
        self.promise = promise
    }

    func peerAnswerHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        status = head.status
        return promise.futureResult.eventLoop.makeSucceededVoidFuture()
    }

    func peerAnswerBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        promise.futureResult.eventLoop.makeSucceededVoidFuture()
    }

    func peerAnswerEnd() {
        promise.succeed(status ?? .badGateway)
    }

    func peerAnswerFailed(_ error: any Error) {
        promise.fail(error)
    }
}

/// Closes its file when the last reference goes, which is when the request
/// that streams it is done, whether or not the stream ever started.
final class OwnedFile: Sendable {
    let file: BlockFile

    init(_ file: BlockFile) {
        self.file = file
    }

    deinit {
        file.close()
    }
}

/// Passes AsyncHTTPClient's callbacks to a `PeerAnswerSink`. The delegate
/// runs on the sink's event loop (`.delegate(on:)`), which
/// `NIOLoopBound` checks.
final class SinkDelegate: HTTPClientResponseDelegate {
    typealias Response = Void

    private let sink: NIOLoopBound<any PeerAnswerSink>
    /// Classifies a failure (and reports an unreachable peer) before the
    /// sink sees it.
    private let failed: @Sendable (any Error) -> any Error

    init(sink: NIOLoopBound<any PeerAnswerSink>, failed: @escaping @Sendable (any Error) -> any Error) {
        self.sink = sink
        self.failed = failed
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        sink.value.peerAnswerHead(head)
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        sink.value.peerAnswerBody(buffer)
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        sink.value.peerAnswerEnd()
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
        sink.value.peerAnswerFailed(failed(error))
    }
}
