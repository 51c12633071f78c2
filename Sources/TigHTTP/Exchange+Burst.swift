import NIOCore
import NIOHTTP1
import TigAddress
import TigStore

/// Where one line of a burst is read from, found before anything is sent.
enum BurstPart {
    /// A block in this pod's store (a read-only channel's target already
    /// substituted).
    case local(BlockAddress)
    /// A block held by a peer; `refuseChannels` is set when it is a channel's
    /// target, so the peer does not follow a second hop.
    case remote(Peer, BlockAddress, refuseChannels: Bool)
}

/// The burst-list parser, `package` (not public API) so that the fuzz
/// target `tig-fuzz` drives this very code.
package enum BurstList {
    /// Block paths only, one per line (CRLF allowed, empty lines skipped).
    /// Nil when any line is something else.
    package static func addresses(in bytes: [UInt8]) -> [BlockAddress]? {
        var addresses: [BlockAddress] = []
        for var line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.isEmpty { continue }
            guard let address = BlockAddress(path: line) else { return nil }
            addresses.append(address)
        }
        return addresses
    }
}

/// Why a burst cannot be answered.
enum BurstRefusal: Error {
    case missing
    case forbidden

    var status: HTTPResponseStatus {
        switch self {
        case .missing: .notFound
        case .forbidden: .forbidden
        }
    }
}

extension Exchange {
    /// A burst list is read whole; this bounds it (about 60,000 lines).
    static let burstListLimit = 4 << 20

    /// `GET ?burst=1`: the block lists paths, one per line; the answer is the
    /// concatenation of the blocks they name, each resolved like a read
    /// (cluster-wide, timer reset, channels followed one hop). Every line is
    /// resolved before the first byte is sent, so a missing block or a bad
    /// line answers an error with nothing sent.
    func burst(list: StoredBlock) throws {
        defer { list.close() }
        guard list.size <= Self.burstListLimit else { return writer.fail(.badRequest) }
        guard let addresses = BurstList.addresses(in: try list.readAll()) else { return writer.fail(.badRequest) }
        var parts: [BurstPart?] = []
        var lookups: [(index: Int, address: BlockAddress, refuseChannels: Bool)] = []
        for address in addresses {
            do {
                switch try resolveLocally(address) {
                case .found(let resolved):
                    parts.append(.local(resolved))
                case .elsewhere(let missing, let refuseChannels):
                    lookups.append((parts.count, missing, refuseChannels))
                    parts.append(nil)
                }
            } catch let refusal as BurstRefusal {
                return writer.fail(refusal.status)
            }
        }
        guard !lookups.isEmpty else { return stream(parts.compactMap { $0 }) }
        guard let network = server.network else { return writer.fail(.notFound) }
        // Each address is looked up once, however many lines name it.
        var distinct: [BlockAddress] = []
        var position: [BlockAddress: Int] = [:]
        for lookup in lookups where position[lookup.address] == nil {
            position[lookup.address] = distinct.count
            distinct.append(lookup.address)
        }
        locateAll(distinct, through: network).assumeIsolated().whenSuccess { [self] holders in
            for lookup in lookups {
                guard let index = position[lookup.address], let holder = holders[index] else { return writer.fail(.notFound) }
                parts[lookup.index] = .remote(holder, lookup.address, refuseChannels: lookup.refuseChannels)
            }
            stream(parts.compactMap { $0 })
        }
    }

    /// Lookups in flight at once for one burst: each asks one home, so a
    /// long burst takes time linear in its lines, and neither floods the
    /// peers nor starves the other requests on this event loop.
    static let burstLookupConcurrency = 32

    /// The holder of each address, nil where none was found; stops at the
    /// first miss, since one missing line fails the burst.
    private func locateAll(_ addresses: [BlockAddress], through network: any PeerNetwork) -> EventLoopFuture<[Peer?]> {
        let done = eventLoop.makePromise(of: [Peer?].self)
        let state = NIOLoopBoundBox((holders: [Peer?](repeating: nil, count: addresses.count), next: 0, running: 0, missed: false, finished: false), eventLoop: eventLoop)
        let eventLoop = self.eventLoop
        func startNext() {
            guard !state.value.missed, state.value.next < addresses.count else {
                if state.value.running == 0 && !state.value.finished {
                    state.value.finished = true
                    done.succeed(state.value.holders)
                }
                return
            }
            let index = state.value.next
            state.value.next += 1
            state.value.running += 1
            network.locate(addresses[index], on: eventLoop).assumeIsolated().whenComplete { result in
                state.value.running -= 1
                if case .success(let holder?) = result {
                    state.value.holders[index] = holder
                } else {
                    state.value.missed = true
                }
                startNext()
            }
        }
        for _ in 0..<min(Self.burstLookupConcurrency, addresses.count) {
            startNext()
        }
        return done.futureResult
    }

    private enum LocalResolution {
        case found(BlockAddress)
        case elsewhere(BlockAddress, refuseChannels: Bool)
    }

    /// Resolves one burst line against this pod, resetting timers on the way.
    private func resolveLocally(_ address: BlockAddress) throws -> LocalResolution {
        switch try store.open(address, touch: query.touch) {
        case .absent:
            return .elsewhere(address, refuseChannels: false)
        case .block(let block):
            block.close()
            return .found(address)
        case .channel(.writeOnly):
            throw BurstRefusal.forbidden
        case .channel(.readOnly(let target)):
            switch try store.open(target, touch: query.touch) {
            case .absent:
                return .elsewhere(target, refuseChannels: true)
            case .block(let block):
                block.close()
                return .found(target)
            case .channel:
                throw BurstRefusal.forbidden
            }
        }
    }

    /// Sends the resolved parts in order as one chunked answer.
    private func stream(_ parts: [BurstPart]) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "cache-control", value: "no-store")
        writer.beginStream(.ok, headers: headers)
        streamParts(parts, from: 0)
    }

    /// Sends `parts[start...]`, each once the previous one is written. A
    /// write that completes at once (a cached block) is followed by this
    /// loop, not by recursion: 60,000 lines must not mean 60,000 frames.
    private func streamParts(_ parts: [BurstPart], from start: Int) {
        var index = start
        while index < parts.count {
            guard let sent = send(parts[index]) else { return writer.abort() }
            index += 1
            let next = index
            var completedAtOnce: Result<Void, any Error>?
            var waiting = false
            sent.assumeIsolated().whenComplete { [self] result in
                guard waiting else { return completedAtOnce = result }
                switch result {
                case .success: streamParts(parts, from: next)
                case .failure: writer.abort()
                }
            }
            switch completedAtOnce {
            case nil:
                waiting = true
                return
            case .failure?:
                return writer.abort()
            case .success?:
                continue
            }
        }
        writer.endStream()
    }

    /// Starts writing one part; nil when it cannot be sent any more.
    private func send(_ part: BurstPart) -> EventLoopFuture<Void>? {
        switch part {
        case .local(let address):
            // Swept or taken since it was checked: the answer cannot be
            // completed honestly.
            guard case .block(let block)? = try? store.open(address, touch: false) else { return nil }
            return writer.writeBlockBody(block)
        case .remote(let peer, let address, let refuseChannels):
            guard let network = server.network else { return nil }
            // A block named by several lines (or relayed before) is fetched once.
            if let hot = network.hotBlocks?.block(address, now: .now) {
                server.metrics.hotCacheHits.increment()
                return writer.writeBody(writer.allocator.buffer(bytes: hot))
            }
            let promise = eventLoop.makePromise(of: Void.self)
            let partRequest = PeerRequest(method: .GET, uri: peerReadURI(address), refuseChannels: refuseChannels)
            let sink = BurstPartSink(writer: writer, done: promise, keepHot: hotFill(for: address, burstPart: true), metrics: server.metrics)
            network.send(partRequest, to: peer, on: eventLoop, sink: sink)
            return promise.futureResult
        }
    }
}

/// Streams one remote block of a burst into the answer already under way
/// (and, like a relayed read, may keep it in the hot cache).
final class BurstPartSink: PeerAnswerSink {
    private let writer: ResponseWriter
    private let done: EventLoopPromise<Void>
    private var collector: HotCollector?

    struct UnexpectedStatus: Error {
        let status: HTTPResponseStatus
    }

    private let metrics: ServerMetrics

    init(writer: ResponseWriter, done: EventLoopPromise<Void>, keepHot: HotFill?, metrics: ServerMetrics) {
        self.writer = writer
        self.done = done
        self.collector = keepHot.map(HotCollector.init)
        self.metrics = metrics
    }

    func peerAnswerHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        guard head.status == .ok else {
            let error = UnexpectedStatus(status: head.status)
            done.fail(error)
            return writer.eventLoop.makeFailedFuture(error)
        }
        collector?.begin(head)
        return writer.eventLoop.makeSucceededVoidFuture()
    }

    func peerAnswerBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        collector?.add(buffer)
        return writer.writeBody(buffer)
    }

    func peerAnswerEnd() {
        done.succeed(())
        collector?.finish(metrics: metrics)
    }

    func peerAnswerFailed(_ error: any Error) {
        done.fail(error)
    }
}
