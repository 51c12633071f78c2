import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing
import TigAddress
import TigHTTP
import TigStore
@testable import TigCluster

/// Reads while pods join (seen as a few failed reads while the operator
/// added pods): a member that does not know the others yet would answer 404
/// for blocks they hold, and one that does not know a new member yet would
/// miss what another placed on it.
@Suite struct MembershipChangeTests {
    @Test func notReadyUntilTheFirstLookupEndsEvenWhenItFindsNoOne() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let lookupMayEnd = DispatchSemaphore(value: 0)
        let directory = PeerDirectory(
            source: .dns(name: "tig.example", port: 1), ownPort: 1, podIP: "127.0.0.1", announcementLifetime: .seconds(60),
            logger: Logger(label: "test"), resolver: { _ in lookupMayEnd.wait(); return [] })
        let client = PeerClient(
            group: group, tls: false, verifyCertificates: false, credentials: PeerCredentials(secret: nil),
            probeTimeout: .milliseconds(250), unreachable: { directory.unreachable($0) })
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("readiness-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let store = try BlockStore(
            directory: data.path, retention: .seconds(600), maxBlockSize: 1 << 20, cacheSize: 0, clock: SystemWallClock(),
            logger: Logger(label: "test"))
        let readiness = Readiness(store: store)
        #expect(readiness.isReady)
        let network = ClusterNetwork(
            directory: directory, client: client, readiness: readiness, credentials: PeerCredentials(secret: nil),
            replicas: 1, settling: .zero)
        let refreshed = group.next().makePromise(of: Void.self)
        let refresher = network.keepMembershipFresh(every: .seconds(60), on: group.next()) { _ in refreshed.succeed() }
        #expect(!readiness.isReady)
        lookupMayEnd.signal()
        try await refreshed.futureResult.get()
        #expect(readiness.isReady)
        refresher.cancel()
        try await client.shutdown()
        try await group.shutdownGracefully()
        try? FileManager.default.removeItem(at: data)
    }

    @Test func aMissInASettledClusterLooksAgainForMembersThatJoined() async throws {
        try await Harness.with([.absent, .holds], joining: 1, settling: .milliseconds(300)) { harness in
            let identity = try #require(harness.directory.identity)
            let joiner = harness.peers[1]
            // Homed at the other peer before the joiner is named (asked
            // first, from off its event loop), at the joiner after.
            let address = try #require((0..<1000).lazy.map { _ in BlockAddress.random() }.first {
                Rendezvous.winner(among: harness.peers + [identity], for: $0) == joiner
                    && Rendezvous.winner(among: [harness.peers[0], identity], for: $0) == harness.peers[0]
            })
            // The first lookup is a change: wait until the cluster is settled
            // (a condition of the clock, polled).
            while harness.network.mayBeMoving(address) { try await Task.sleep(for: .milliseconds(20)) }
            harness.join()
            let found = try await harness.network.locate(address, on: harness.group.next()).get()
            #expect(found == joiner)
            #expect(harness.probes(0) == 1, "the home before the join was asked first")
        }
    }
}
