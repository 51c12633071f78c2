import NIOCore
import NIOHTTP1
import TigAddress
import TigStore

/// Answers one accepted request: the routing from an HTTP request to the
/// store, and to the peers when this pod does not hold the address.
///
/// Lives on the connection's event loop; peer lookups complete there too.
final class Exchange {
    let request: TigRequest
    let writer: ResponseWriter
    let server: ServerContext
    /// Set when the request was answered a second time because its block
    /// arrived here during the peer lookup (see `answerAgainIfArrived`).
    private var answeredAgain = false

    init(request: TigRequest, writer: ResponseWriter, server: ServerContext) {
        self.request = request
        self.writer = writer
        self.server = server
    }

    var store: BlockStore { server.store }
    var query: QueryParameters { request.query }
    var eventLoop: any EventLoop { writer.eventLoop }

    /// The peers to ask about an address this pod does not hold. A forwarded
    /// request never asks again: that is what makes loops impossible.
    var peers: (any PeerNetwork)? {
        request.isForwarded ? nil : server.network
    }

    func respond(body: IncomingBlock?) {
        do {
            switch (request.route, request.method) {
            case (.healthz, _):
                writer.countsAsWork = false
                acceptAnnouncement()
                writer.answer(.ok, body: nil)
            case (.readyz, _):
                writer.countsAsWork = false
                writer.answer(server.readiness.isReady ? .ok : .serviceUnavailable, body: nil)
            case (.metrics, _):
                writer.countsAsWork = false
                answerMetrics()
            case (.store, .GET):
                try list()
            case (.store, _):
                guard let body else { return writer.fail(.badRequest) }
                try storeContent(body)
            case (.block(let address), .GET):
                try read(address)
            case (.block(let address), .HEAD):
                try describe(address)
            case (.block(let address), .DELETE):
                try delete(address)
            case (.block(let address), _):
                guard let body else { return writer.fail(.badRequest) }
                guard request.target.bazel == .contentStore else { return try write(address, body: body) }
                // Bazel names the hash it sends: other bytes are refused and
                // nothing is stored.
                guard body.address == address else { return writer.fail(.badRequest) }
                try storeContent(body)
            }
        } catch {
            writer.fail(error)
        }
    }

    /// A member announcing itself on `/healthz` (or that it drains, or
    /// left). Only a member's request counts (see `isPeerRequest`), and it
    /// can only speak for itself: the announced host is the connection's.
    private func acceptAnnouncement() {
        guard let network = server.network,
              let announced = request.head.headers.first(name: peerHeader),
              let colon = announced.lastIndex(of: ":"), let port = Int(announced[announced.index(after: colon)...]),
              let state = request.head.headers.first(name: peerStateHeader).flatMap(PeerState.init(rawValue:))
        else { return }
        var host = announced[..<colon]
        if host.first == "[" && host.last == "]" { host = host.dropFirst().dropLast() }
        guard request.isForwarded, String(host) == request.remoteIP else {
            server.logger.warning("peer-announcement-refused", metadata: ["peer": "\(announced)", "from": "\(request.remoteIP ?? "?")"])
            return
        }
        network.peerAnnounced(Peer(host: String(host), port: port), state: state)
    }

    /// The success answer of writes: the path, formatted.
    func answerPath(_ address: BlockAddress) {
        writer.answer(formatted(address.path, with: query.format))
    }

    private func answerMetrics() {
        let text = server.metrics.render(hotCacheBytes: server.network?.hotBlocks?.bytes ?? 0, readiness: server.readiness)
        var buffer = writer.allocator.buffer(capacity: text.count)
        buffer.writeBytes(text)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; version=0.0.4; charset=utf-8")
        writer.answer(.ok, headers: headers, body: buffer)
    }

    /// `GET /`: every stored path, newest first. Through any pod the listing
    /// covers the whole cluster: the peers' listings (with their times) are
    /// merged with this pod's; a block held by several pods is listed once.
    private func list() throws {
        guard server.authority.mayList(presenting: request.apiKey) else {
            return writer.fail(server.authority.isConfigured ? .unauthorized : .forbidden)
        }
        let local = try store.list().map { Listed(lastUse: $0.lastUse, address: $0.address) }
        if request.isForwarded && request.listsTimes {
            return writer.answer(local.map { "\($0.lastUse) \($0.address.path)\n" }.joined())
        }
        guard let network = peers, !network.peers.isEmpty else { return answerListing(local) }
        let uri = "/?apikey=" + QueryParameters.percentEncoded(request.apiKey ?? "")
        let gathered = network.peers.map { ask($0, PeerRequest(method: .GET, uri: uri, listTimes: true), through: network) }
        EventLoopFuture.whenAllComplete(gathered, on: eventLoop).assumeIsolated().whenSuccess { [self] results in
            let listings = results.compactMap { result in
                (try? result.get()).flatMap { $0.head.status == .ok ? Listed.parse($0.text) : nil }
            }
            var newest: [BlockAddress: WallTime] = [:]
            for entry in local + listings.joined() {
                newest[entry.address] = max(newest[entry.address] ?? .min, entry.lastUse)
            }
            answerListing(newest.map { Listed(lastUse: $0.value, address: $0.key) }.sorted(by: >))
        }
    }

    private func answerListing(_ entries: [Listed]) {
        writer.answer(entries.map { formatted($0.address.path, with: query.format) + "\n" }.joined())
    }

    // MARK: - Peers

    /// A read this pod cannot answer from its store: the homes are asked in
    /// rank order, each with the real request (one hop), then the fallback
    /// (see `PeerNetwork.fallback`); `otherwise` answers when none holds it.
    ///
    /// Blocks only ever move towards their homes, so a block that moves
    /// while it is looked for leaves the pod the fallback asks after the
    /// homes said no. When blocks may be moving (`mayBeMoving`) and the
    /// fallback found nothing, or the pod it found no longer had it, the
    /// homes are asked once more.
    func readFromCluster(_ address: BlockAddress, otherwise: @escaping () -> Void) {
        guard let network = peers else { return otherwise() }
        let homes = network.placement(of: address).remoteHomes
        read(address, fromHomes: homes[...], asked: homes, degraded: false, again: false, through: network, otherwise: otherwise)
    }

    private func read(
        _ address: BlockAddress, fromHomes remaining: ArraySlice<Peer>, asked: [Peer], degraded: Bool, again: Bool,
        through network: any PeerNetwork, otherwise: @escaping () -> Void
    ) {
        guard let home = remaining.first else {
            guard !again else { return missed(address, body: nil, otherwise: otherwise) }
            let askHomesAgain = { [self] in
                guard network.mayBeMoving(address) else { return missed(address, body: nil, otherwise: otherwise) }
                read(address, fromHomes: asked[...], asked: asked, degraded: degraded, again: true, through: network, otherwise: otherwise)
            }
            return network.fallback(for: address, excluding: asked, degraded: degraded, on: eventLoop).assumeIsolated().whenComplete { [self] result in
                guard case .success(let holder?) = result else { return askHomesAgain() }
                relay(to: holder, body: nil, keepHot: hotFill(for: address), askAgain: RelaySink.AskAgain(afterNotFound: true, afterAnyFailure: true) { _ in
                    askHomesAgain()
                })
            }
        }
        // A read changes nothing, so a home that fails is simply passed over.
        relay(to: home, body: nil, keepHot: hotFill(for: address), askAgain: RelaySink.AskAgain(afterNotFound: true, afterAnyFailure: true) { [self] failed in
            read(
                address, fromHomes: remaining.dropFirst(), asked: asked, degraded: degraded || failed, again: again,
                through: network, otherwise: otherwise)
        })
    }

    /// A key-slot operation (`take`, `DELETE`, a write) on an address this
    /// pod does not hold. It runs where the slot is, so that exactly one pod
    /// decides: at a previous home that has not handed it over yet, or any
    /// member right after a membership change, else at the primary home,
    /// which is `atPrimary` when this pod is the primary. When a member that
    /// may hold the slot does not answer, nothing runs (503): running at the
    /// primary then could fork the slot.
    ///
    /// A holder that answers 404 did nothing (the slot left it meanwhile):
    /// the primary is asked then. A holder that fails is not asked around,
    /// since it may have acted; one that could not be reached did nothing,
    /// and is down now, so the primary under the new placement is asked.
    func runAtSlot(_ address: BlockAddress, body: IncomingBlock?, atPrimary: @escaping () -> Void) {
        guard let network = peers else { return atPrimary() }
        let placement = network.placement(of: address)
        network.slotHolder(of: address, excluding: Array(placement.homes.prefix(1)), on: eventLoop)
            .assumeIsolated().whenComplete { [self] result in
                switch result {
                case .success(.peer(let holder)) where holder != placement.local:
                    relay(to: holder, body: body, askAgain: RelaySink.AskAgain(afterNotFound: true, afterAnyFailure: false) { [self] _ in
                        runAtPrimary(address, body: body, through: network, atPrimary: atPrimary)
                    })
                case .success(.unknown):
                    writer.fail(.serviceUnavailable)
                default:
                    runAtPrimary(address, body: body, through: network, atPrimary: atPrimary)
                }
            }
    }

    /// Primaries tried at most for one operation: each unreachable one is
    /// marked down, so the next try goes to the next in rank.
    static let primaryAttempts = 3

    private func runAtPrimary(
        _ address: BlockAddress, body: IncomingBlock?, through network: any PeerNetwork, attempt: Int = 1,
        atPrimary: @escaping () -> Void
    ) {
        guard !answerAgainIfArrived(address, body: body) else { return }
        guard let primary = network.placement(of: address).remotePrimary else { return atPrimary() }
        let retry = attempt < Self.primaryAttempts
            ? RelaySink.AskAgain(afterNotFound: false, afterAnyFailure: false) { [self] _ in
                runAtPrimary(address, body: body, through: network, attempt: attempt + 1, atPrimary: atPrimary)
            }
            : nil
        relay(to: primary, body: body, askAgain: retry)
    }

    /// No member holds `address`: answered from this pod if it arrived here
    /// meanwhile (handed over during the lookup), else by `otherwise`.
    private func missed(_ address: BlockAddress, body: IncomingBlock?, otherwise: () -> Void) {
        server.metrics.recordForward(.miss)
        if !answerAgainIfArrived(address, body: body) { otherwise() }
    }

    /// Answers the request again, from the start, when `address` has come to
    /// this pod since it was found absent here; at most once per request.
    private func answerAgainIfArrived(_ address: BlockAddress, body: IncomingBlock?) -> Bool {
        guard !answeredAgain, store.holds(address) else { return false }
        answeredAgain = true
        respond(body: body)
        return true
    }

    /// Sends this request unchanged to `peer` and streams its answer back,
    /// unless `askAgain` takes over (see `RelaySink.AskAgain`); a read's
    /// answer may go to the hot cache too (`keepHot`).
    func relay(to peer: Peer, body: IncomingBlock?, keepHot: HotFill? = nil, askAgain: RelaySink.AskAgain? = nil) {
        guard let peers = server.network else { return writer.fail(.internalServerError) }
        var forwarded = PeerRequest(
            method: request.method, uri: request.head.uri, refuseChannels: request.refusesChannels, body: body, apiKey: request.apiKey)
        if query.take { forwarded.repeatable = false }
        let conditions = request.method == .GET || request.method == .HEAD ? ReadConditions.headerNames
            : request.expectsBody ? WriteConditions.headerNames : []
        for name in conditions {
            for value in request.head.headers[name] { forwarded.passedOn.add(name: name, value: value) }
        }
        peers.send(
            forwarded, to: peer, on: eventLoop,
            sink: RelaySink(writer: writer, metrics: server.metrics, askAgain: askAgain, keepHot: keepHot))
    }
}

/// One line of a listing: a block and when it was last used.
struct Listed: Comparable {
    let lastUse: WallTime
    let address: BlockAddress

    static func < (lhs: Listed, rhs: Listed) -> Bool {
        (lhs.lastUse, lhs.address) < (rhs.lastUse, rhs.address)
    }

    /// Parses a peer's `<ns> <path>` lines; malformed lines are skipped.
    static func parse(_ text: String) -> [Listed] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 2, let time = WallTime(fields[0]), let address = BlockAddress(path: Array(fields[1].utf8)) else {
                return nil
            }
            return Listed(lastUse: time, address: address)
        }
    }
}

/// A peer's whole answer, for small answers read by this pod itself.
struct PeerAnswer {
    let head: HTTPResponseHead
    let text: String
}

/// Collects a peer's whole (small) answer. Fails only when the peer could
/// not be asked or did not finish answering.
final class CollectingSink: PeerAnswerSink {
    private let promise: EventLoopPromise<PeerAnswer>
    private var head = HTTPResponseHead(version: .http1_1, status: .badGateway)
    private var text = ""

    init(_ promise: EventLoopPromise<PeerAnswer>) {
        self.promise = promise
    }

    func peerAnswerHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        self.head = head
        return promise.futureResult.eventLoop.makeSucceededVoidFuture()
    }

    func peerAnswerBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        text += String(buffer: buffer)
        return promise.futureResult.eventLoop.makeSucceededVoidFuture()
    }

    func peerAnswerEnd() {
        promise.succeed(PeerAnswer(head: head, text: text))
    }

    func peerAnswerFailed(_ error: any Error) {
        promise.fail(error)
    }
}

extension Exchange {
    /// Sends `request` to `peer` and collects the whole answer.
    func ask(_ peer: Peer, _ request: PeerRequest, through network: any PeerNetwork) -> EventLoopFuture<PeerAnswer> {
        let answer = eventLoop.makePromise(of: PeerAnswer.self)
        network.send(request, to: peer, on: eventLoop, sink: CollectingSink(answer))
        return answer.futureResult
    }
}
