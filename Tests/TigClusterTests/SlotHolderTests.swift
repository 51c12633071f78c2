import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing
import TigAddress
import TigHTTP
import TigStore
@testable import TigCluster

/// `ClusterNetwork.slotHolder` with the real `PeerClient` against scripted
/// peers on loopback: where a key-slot operation runs while a member
/// drains, and when it must be refused (503) rather than risk forking the
/// slot.
@Suite(.serialized) struct SlotHolderTests {
    @Test func aDrainingMemberThatHoldsTheSlotIsWhereItRuns() async throws {
        try await Harness.with([.absent, .holds, .absent]) { harness in
            harness.drains(1)
            let holder = try await harness.slotHolder(excluding: [0])
            #expect(holder == .peer(harness.peers[1]))
        }
    }

    @Test func aDrainingMemberThatRefusesConnectionsMayStillHoldIt() async throws {
        try await Harness.with([.absent, .closed, .absent]) { harness in
            harness.drains(1)
            let holder = try await harness.slotHolder(excluding: [0])
            #expect(holder == .unknown)
        }
    }

    @Test func aSilentDrainingMemberIsWaitedOnThenTheAnswerIsUnknown() async throws {
        try await Harness.with([.absent, .silent, .absent]) { harness in
            harness.drains(1)
            let started = ContinuousClock.now
            let holder = try await harness.slotHolder(excluding: [0])
            #expect(holder == .unknown)
            #expect(ContinuousClock.now - started >= .seconds(4), "gave up on the silent member before the slot probe timeout")
        }
    }

    @Test func theExcludedPrimaryIsAskedTooWhileAMemberDrains() async throws {
        try await Harness.with([.holds, .absent, .absent]) { harness in
            harness.drains(1)
            let holder = try await harness.slotHolder(excluding: [0])
            #expect(holder == .peer(harness.peers[0]))
        }
    }

    @Test func nobodyHoldsItWhenEveryMemberAskedSaysNo() async throws {
        try await Harness.with([.absent, .absent, .absent]) { harness in
            harness.drains(1)
            let holder = try await harness.slotHolder(excluding: [0])
            #expect(holder == .nowhere)
            #expect(harness.probes(0) == 1 && harness.probes(1) == 1, "the draining member and the primary are asked")
        }
    }

    /// A drain can outlast the settling window, and the draining pod hands a
    /// block to the home under its own view of the members: a read that
    /// missed at the homes asks every member while one drains.
    @Test func whileAMemberDrainsAMissAsksEveryMember() async throws {
        try await Harness.with([.absent, .absent, .holds]) { harness in
            // An address whose primary before the drain was not the holder,
            // so only asking everyone can find it.
            let address = try #require((0..<100).lazy.map { _ in BlockAddress.random() }
                .first { Rendezvous.winner(among: harness.peers, for: $0) != harness.peers[2] })
            harness.drains(1)
            let found = try await harness.network.fallback(
                for: address, excluding: [harness.peers[0]], degraded: false, on: harness.group.next()).get()
            #expect(found == harness.peers[2])
            #expect(harness.network.mayBeMoving(address))
        }
    }

    /// A live member marked down (a connect that timed out under load) is
    /// still asked by a read that missed while another member drains.
    @Test func whileAMemberDrainsAReadAsksAMemberMarkedDownToo() async throws {
        try await Harness.with([.absent, .holds, .absent]) { harness in
            harness.drains(2)
            harness.directory.unreachable(harness.peers[1])
            let found = try await harness.network.fallback(
                for: harness.address, excluding: [harness.peers[0]], degraded: false, on: harness.group.next()).get()
            #expect(found == harness.peers[1])
        }
    }

    @Test func aSteadyClusterAsksNobody() async throws {
        try await Harness.with([.holds, .holds, .holds]) { harness in
            let holder = try await harness.slotHolder(excluding: [0])
            #expect(holder == .nowhere)
            #expect((0..<3).allSatisfy { harness.probes($0) == 0 }, "no member drains and nothing changed: no probe")
            let found = try await harness.network.fallback(
                for: harness.address, excluding: [], degraded: false, on: harness.group.next()).get()
            #expect(found == nil && (0..<3).allSatisfy { harness.probes($0) == 0 }, "a miss in a steady cluster asks nobody else")
        }
    }
}

/// How a scripted peer answers a `HEAD` probe.
enum ScriptedAnswer: Sendable {
    case holds
    case absent
    /// Accepts the connection and never answers.
    case silent
    /// Nothing listens: connections are refused.
    case closed
}

/// Scripted peers, a directory naming them (settled: no recent change), and
/// the cluster network under test, as this pod (on a port nobody uses).
/// The last `joining` peers are not named until `join()`; with a
/// `settling` window the cluster is not settled before it passed.
struct Harness {
    let peers: [Peer]
    let directory: PeerDirectory
    let network: ClusterNetwork
    let group: MultiThreadedEventLoopGroup
    private let counters: [NIOLockedValueBox<Int>]
    private let joined: NIOLockedValueBox<Bool>
    let address = BlockAddress.random()

    static func with(
        _ answers: [ScriptedAnswer], joining: Int = 0, settling: TimeAmount = .zero, _ body: (Harness) async throws -> Void
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var channels: [any Channel] = []
        var peers: [Peer] = []
        var counters: [NIOLockedValueBox<Int>] = []
        for answer in answers {
            let counter = NIOLockedValueBox(0)
            let channel = try await ServerBootstrap(group: group)
                .childChannelInitializer { channel in
                    channel.pipeline.configureHTTPServerPipeline().flatMap {
                        channel.pipeline.addHandler(ScriptedPeerHandler(answer: answer, probes: counter))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            let port = try #require(channel.localAddress?.port)
            if answer == .closed { try await channel.close() } else { channels.append(channel) }
            peers.append(Peer(host: "127.0.0.1", port: port))
            counters.append(counter)
        }
        let joined = NIOLockedValueBox(false)
        let named: @Sendable () -> [Peer] = { [peers] in joined.withLockedValue { $0 } ? peers : Array(peers.dropLast(joining)) }
        let directory = PeerDirectory(
            source: .fixed(peers), ownPort: 1, podIP: "127.0.0.1", announcementLifetime: .seconds(60), logger: Logger(label: "test"),
            resolver: { _ in named() })
        directory.refresh()
        let client = PeerClient(
            group: group, tls: false, verifyCertificates: false, credentials: PeerCredentials(secret: nil),
            probeTimeout: .milliseconds(250), unreachable: { directory.unreachable($0) })
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("slotholder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let store = try BlockStore(directory: data.path, retention: .seconds(600), maxBlockSize: 1 << 20, cacheSize: 0, clock: SystemWallClock(), logger: Logger(label: "test"))
        let network = ClusterNetwork(
            directory: directory, client: client, readiness: Readiness(store: store), credentials: PeerCredentials(secret: nil),
            replicas: 1, settling: settling)
        let harness = Harness(peers: peers, directory: directory, network: network, group: group, counters: counters, joined: joined)
        do {
            try await body(harness)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        for channel in channels { try? await channel.close() }
        try await group.shutdownGracefully()
        try? FileManager.default.removeItem(at: data)
    }

    /// Peer `index` announces that it drains.
    func drains(_ index: Int) {
        network.peerAnnounced(peers[index], state: .draining)
    }

    func slotHolder(excluding indices: [Int]) async throws -> SlotHolder {
        try await network.slotHolder(of: address, excluding: indices.map { peers[$0] }, on: group.next()).get()
    }

    /// The joining peers are named from now on (by the next lookup).
    func join() {
        joined.withLockedValue { $0 = true }
    }

    /// How many probes peer `index` received.
    func probes(_ index: Int) -> Int {
        counters[index].withLockedValue { $0 }
    }
}

/// Answers `HEAD` as scripted and counts the requests.
final class ScriptedPeerHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let answer: ScriptedAnswer
    let probes: NIOLockedValueBox<Int>

    init(answer: ScriptedAnswer, probes: NIOLockedValueBox<Int>) {
        self.answer = answer
        self.probes = probes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        probes.withLockedValue { $0 += 1 }
        let status: HTTPResponseStatus
        switch answer {
        case .holds: status = .ok
        case .absent: status = .notFound
        case .silent, .closed: return
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: "0")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
