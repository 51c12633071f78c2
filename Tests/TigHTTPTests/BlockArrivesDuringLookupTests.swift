import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing
import TigAddress
@testable import TigHTTP
import TigStore

/// A draining peer hands a key slot to this pod while this pod is looking
/// for it on the peers. The lookup then finds it nowhere else (or finds it
/// gone from the peer it was relayed to); the request must be answered from
/// this pod's store, not with a 404, and a write must not go elsewhere.
@Suite struct BlockArrivesDuringLookupTests {
    static let slot = SHA256Hasher.address(of: Array("a key of the test".utf8))
    static let peer = Peer(host: "192.0.2.1", port: 7777)

    /// The read goes to the home first (one relay, answered 404), then the
    /// lookup elsewhere finds the block missing everywhere, or gone from the
    /// peer that had it.
    @Test(arguments: [HandsOverDuringLookup.Answer.missEverywhere, .goneFromPeer])
    func readIsAnsweredFromTheArrivedBlock(_ answer: HandsOverDuringLookup.Answer) async throws {
        try await withServer(network: { store in HandsOverDuringLookup(store: store, answer: answer) }) { url, network in
            let (status, body) = try await request(.GET, url + Self.slot.path)
            #expect(status == .ok)
            #expect(body == "handed over")
            #expect(network.relayed.load(ordering: .relaxed) == (answer == .goneFromPeer ? 2 : 1))
        }
    }

    @Test func headFoundMissingEverywhereDescribesTheArrivedBlock() async throws {
        try await withServer(network: { store in HandsOverDuringLookup(store: store, answer: .missEverywhere) }) { url, _ in
            let (status, _) = try await request(.HEAD, url + Self.slot.path)
            #expect(status == .ok)
        }
    }

    @Test func writeFoundMissingEverywhereIsAppliedToTheArrivedSlot() async throws {
        try await withServer(network: { store in HandsOverDuringLookup(store: store, answer: .missEverywhere) }) { url, network in
            let (status, _) = try await request(.PUT, url + Self.slot.path + "?append=1", body: " and appended")
            #expect(status == .ok)
            // Not created anew on the slot's home pod: appended where the slot now is.
            #expect(network.relayed.load(ordering: .relaxed) == 0)
            let (_, body) = try await request(.GET, url + Self.slot.path)
            #expect(body == "handed over and appended")
        }
    }

    /// The slot may be on a member that did not answer: neither this pod
    /// nor the primary home may act on it (a fresh slot there would lose
    /// the held one at its handover).
    @Test(arguments: ["?append=1", "?setifnot=1", "?take=1"])
    func slotOperationIsRefusedWhileAHolderIsSilent(_ query: String) async throws {
        let held = Mutex<BlockStore?>(nil)
        try await withServer(network: { store in
            held.withLock { $0 = store }
            return HandsOverDuringLookup(store: nil, answer: .silentHolder)
        }) { url, network in
            let (status, _) = try await request(query == "?take=1" ? .GET : .PUT, url + Self.slot.path + query, body: query == "?take=1" ? nil : "line")
            #expect(status == .serviceUnavailable)
            #expect(network.relayed.load(ordering: .relaxed) == 0)
            #expect(held.withLock { $0?.holds(Self.slot) } == false)
        }
    }

    @Test func readOfABlockThatNeverArrivesIsStillNotFound() async throws {
        try await withServer(network: { _ in HandsOverDuringLookup(store: nil, answer: .missEverywhere) }) { url, _ in
            let (status, body) = try await request(.GET, url + Self.slot.path)
            #expect(status == .notFound)
            #expect(body.isEmpty)
        }
    }

    // MARK: - Harness

    private func withServer(
        network makeNetwork: (BlockStore) -> HandsOverDuringLookup,
        _ body: (String, HandsOverDuringLookup) async throws -> Void
    ) async throws {
        let directory = NSTemporaryDirectory() + "tig-http-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logger = Logger(label: "tig-http-test")
        let store = try BlockStore(directory: directory, retention: .seconds(600), clock: SystemWallClock(), logger: logger)
        let network = makeNetwork(store)
        let context = ServerContext(
            store: store,
            authority: APIKeyAuthority(environmentKey: nil, dataDirectory: directory, explicitFile: nil, logger: logger),
            metrics: ServerMetrics(statistics: store.statistics), readiness: Readiness(store: store),
            limits: HTTPLimits(), usesTLS: false, logger: logger, network: network)
        let server = try await TigServer(host: "127.0.0.1", port: 0, tls: nil, server: context, group: MultiThreadedEventLoopGroup.singleton)
        do {
            let port = try #require(server.localAddress?.port)
            try await body("http://127.0.0.1:\(port)", network)
        } catch {
            try await server.shutdown()
            throw error
        }
        try await server.shutdown()
    }

    private func request(_ method: HTTPMethod, _ url: String, body: String? = nil) async throws -> (HTTPResponseStatus, String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let answer = try await response.body.collect(upTo: 1 << 20)
        return (response.status, String(buffer: answer))
    }
}

/// A cluster of one scripted peer, the home of every address. Each lookup
/// beyond the home first hands the slot over to this pod's store (as a
/// draining peer would, mid-lookup), then answers as scripted.
final class HandsOverDuringLookup: PeerNetwork {
    var hotBlocks: (any HotBlocks)? { nil }
    enum Answer: Sendable {
        /// No peer holds it (it left the peer before the probe came).
        case missEverywhere
        /// A peer held it at the probe, and answers the relayed request 404.
        case goneFromPeer
        /// A member that may hold the slot does not answer the probe.
        case silentHolder
    }

    private let store: BlockStore?
    private let answer: Answer
    let relayed = Atomic<Int>(0)

    init(store: BlockStore?, answer: Answer) {
        self.store = store
        self.answer = answer
    }

    var peers: [Peer] { [BlockArrivesDuringLookupTests.peer] }

    func isPeerRequest(_ head: HTTPRequestHead, from remoteIP: String?) -> Bool { false }

    func peerAnnounced(_ peer: Peer, state: PeerState) {}

    /// Every address's home is the peer: a write relayed there is a write
    /// that went to the wrong pod.
    func placement(of address: BlockAddress) -> Placement {
        Placement(homes: [BlockArrivesDuringLookupTests.peer], local: Peer(host: "192.0.2.2", port: 7777))
    }

    func fallback(for address: BlockAddress, excluding asked: [Peer], degraded: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<Peer?> {
        eventLoop.makeCompletedFuture {
            if let store, !store.holds(address) {
                let value = try store.incoming(limit: 1 << 20)
                try value.append(Array("handed over".utf8))
                _ = try store.writeSlot(address, body: value, mode: .createOnly)
            }
            return answer == .goneFromPeer ? BlockArrivesDuringLookupTests.peer : nil
        }
    }

    func slotHolder(of address: BlockAddress, excluding asked: [Peer], on eventLoop: any EventLoop) -> EventLoopFuture<SlotHolder> {
        guard answer != .silentHolder else { return eventLoop.makeSucceededFuture(.unknown) }
        return fallback(for: address, excluding: asked, degraded: false, on: eventLoop).map { holder in
            holder.map(SlotHolder.peer) ?? .nowhere
        }
    }

    func mayBeMoving(_ address: BlockAddress) -> Bool { false }

    func locate(_ address: BlockAddress, on eventLoop: any EventLoop) -> EventLoopFuture<Peer?> {
        fallback(for: address, excluding: [], degraded: false, on: eventLoop)
    }

    func send(_ request: PeerRequest, to peer: Peer, on eventLoop: any EventLoop, sink: any PeerAnswerSink) {
        relayed.add(1, ordering: .relaxed)
        _ = sink.peerAnswerHead(HTTPResponseHead(version: .http1_1, status: .notFound))
        sink.peerAnswerEnd()
    }
}
