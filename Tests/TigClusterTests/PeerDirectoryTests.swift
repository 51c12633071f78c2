import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
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

    @Test func aPodThatLeftIsForgotten() {
        let directory = directory()
        let gone = Peer(host: "192.0.2.30", port: 7777)
        directory.announce(gone, state: .ready)
        directory.announce(gone, state: .gone)
        #expect(directory.peers.isEmpty)
    }

    @Test func aPodThatCannotBeReachedIsDownUntilItAnswers() {
        let directory = directory()
        let member = Peer(host: "192.0.2.10", port: 7777)
        directory.refresh()
        directory.unreachable(member)
        #expect(directory.membership.down == [member])
        #expect(directory.membership.live.isEmpty, "nothing is placed on a down member")
        #expect(directory.peers == [member], "it stays a member: it may hold blocks")
        directory.reachable(member)
        #expect(directory.membership.live == [member])
    }

    @Test func withoutTrustedAnnouncementsOnlyTheSourceNamesMembers() {
        let directory = PeerDirectory(
            source: .fixed([Peer(host: "192.0.2.10", port: 7777)]), ownPort: 7777, podIP: "192.0.2.1",
            announcementLifetime: .seconds(15), trustsAnnouncements: false, logger: .init(label: "test"))
        directory.refresh()
        directory.announce(Peer(host: "192.0.2.66", port: 7777), state: .ready)
        #expect(directory.peers == [Peer(host: "192.0.2.10", port: 7777)], "a stranger's announcement adds nothing")
        #expect(!directory.isMember(host: "192.0.2.66"))
        directory.announce(Peer(host: "192.0.2.10", port: 7777), state: .draining)
        #expect(directory.membership.draining == [Peer(host: "192.0.2.10", port: 7777)], "a member may say it drains")
    }

    @Test func aChangeRemembersThePreviousMembers() {
        let directory = directory()
        directory.refresh()
        let before = directory.membership.members
        directory.announce(Peer(host: "192.0.2.20", port: 7777), state: .ready)
        #expect(directory.previous?.members == before)
        #expect(directory.changed(within: .seconds(60)))
    }

    @Test func announcementsThatAreNotRenewedExpire() {
        let directory = directory(lifetime: .zero)
        directory.announce(Peer(host: "192.0.2.40", port: 7777), state: .ready)
        #expect(directory.refresh().peers == [Peer(host: "192.0.2.10", port: 7777)])
    }

    @Test func aLookupMissReResolvesOnlyWhenTheMembersAreStale() throws {
        let directory = directory(lifetime: .zero)
        let loop = NIOSingletons.posixEventLoopGroup.next()
        directory.refresh()
        directory.announce(Peer(host: "192.0.2.50", port: 7777), state: .ready)
        // Resolved a moment ago: no new resolution, so the announcement is still there.
        let fresh = try directory.refreshIfOlder(than: .hours(1), on: loop).wait()
        #expect(fresh.peers.contains(Peer(host: "192.0.2.50", port: 7777)))
        // Stale: resolved again, and the unrenewed announcement is gone.
        let resolved = try directory.refreshIfOlder(than: .zero, on: loop).wait()
        #expect(resolved.peers == [Peer(host: "192.0.2.10", port: 7777)])
    }

    @Test func aPodThatLeavesDNSCountsAsDrainingUntilItSaysItLeft() throws {
        let listed = NIOLockedValueBox([Peer(host: "192.0.2.10", port: 7777), Peer(host: "192.0.2.11", port: 7777)])
        let directory = PeerDirectory(
            source: .dns(name: "tig-headless", port: 7777), ownPort: 7777, podIP: "192.0.2.1",
            announcementLifetime: .seconds(15), logger: .init(label: "test"), resolver: { _ in listed.withLockedValue { $0 } })
        directory.refresh()
        listed.withLockedValue { _ = $0.removeLast() }
        let membership = directory.refresh()
        let leaving = Peer(host: "192.0.2.11", port: 7777)
        #expect(membership.peers.contains(leaving))
        #expect(membership.draining == [leaving])
        directory.announce(leaving, state: .gone)
        #expect(!directory.peers.contains(leaving))
    }
}
