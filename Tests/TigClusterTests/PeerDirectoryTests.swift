import NIOCore
import Testing
import TigHTTP
@testable import TigCluster

@Suite struct PeerDirectoryTests {
    @Test func resolvesNamesWithTheSystemResolver() {
        #expect(PeerDirectory.resolve("localhost").contains("127.0.0.1"))
        #expect(PeerDirectory.resolve("no-such-name.invalid").isEmpty)
    }

    @Test func aStaticListIsResolvedAndThisPodFoundInIt() {
        let directory = PeerDirectory(
            source: .fixed([Peer(host: "127.0.0.1", port: 7001), Peer(host: "localhost", port: 7002), Peer(host: "127.0.0.1", port: 7003)]),
            ownPort: 7002, podIP: nil, announcementLifetime: .seconds(15), logger: .init(label: "test"))
        let membership = directory.refresh()
        #expect(membership.local == Peer(host: "127.0.0.1", port: 7002))
        #expect(membership.peers == [Peer(host: "127.0.0.1", port: 7001), Peer(host: "127.0.0.1", port: 7003)])
    }

    @Test func aPodTheSourceDoesNotNameIsNoMember() {
        let directory = PeerDirectory(
            source: .fixed([Peer(host: "192.0.2.10", port: 7777), Peer(host: "192.0.2.11", port: 7777)]),
            ownPort: 7777, podIP: "192.0.2.99", announcementLifetime: .seconds(15), logger: .init(label: "test"))
        let membership = directory.refresh()
        #expect(membership.local == nil)
        #expect(membership.peers.count == 2)
    }

    @Test func podIPNamesThisPod() {
        let directory = PeerDirectory(
            source: .fixed([Peer(host: "192.0.2.10", port: 7777), Peer(host: "192.0.2.11", port: 7777)]),
            ownPort: 7777, podIP: "192.0.2.11", announcementLifetime: .seconds(15), logger: .init(label: "test"))
        #expect(directory.refresh().peers == [Peer(host: "192.0.2.10", port: 7777)])
    }

    func directory(lifetime: TimeAmount = .seconds(15)) -> PeerDirectory {
        PeerDirectory(
            source: .fixed([Peer(host: "192.0.2.10", port: 7777)]),
            ownPort: 7777, podIP: "192.0.2.1", announcementLifetime: lifetime, logger: .init(label: "test"))
    }

    @Test func anAnnouncedPodIsAMemberBeforeDNSNamesIt() {
        let directory = directory()
        directory.refresh()
        let newcomer = Peer(host: "192.0.2.20", port: 7777)
        directory.announce(newcomer, state: .ready)
        #expect(directory.peers == [Peer(host: "192.0.2.10", port: 7777), newcomer])
        #expect(directory.refresh().peers.contains(newcomer), "a refresh keeps a live announcement")
        #expect(directory.identity == Peer(host: "192.0.2.1", port: 7777))
    }

    @Test func aDrainingPodStaysAMemberButIsMarked() {
        let directory = directory()
        let leaving = Peer(host: "192.0.2.10", port: 7777)
        directory.refresh()
        directory.announce(leaving, state: .draining)
        #expect(directory.membership.draining == [leaving])
        #expect(directory.peers.contains(leaving))
    }

    @Test func aPodThatLeftOrCannotBeReachedIsForgotten() {
        let directory = directory()
        let gone = Peer(host: "192.0.2.30", port: 7777)
        let silent = Peer(host: "192.0.2.31", port: 7777)
        directory.announce(gone, state: .ready)
        directory.announce(silent, state: .ready)
        directory.announce(gone, state: .gone)
        directory.unreachable(silent)
        #expect(directory.peers.isEmpty)
    }

    @Test func announcementsThatAreNotRenewedExpire() {
        let directory = directory(lifetime: .zero)
        directory.announce(Peer(host: "192.0.2.40", port: 7777), state: .ready)
        #expect(directory.refresh().peers == [Peer(host: "192.0.2.10", port: 7777)])
    }
}
