import NIOCore
import NIOPosix
import TigAddress
import TigHTTP
import TigStore

/// The cluster as the HTTP front sees it: who holds an address (asked of all
/// peers in parallel), where a new key slot belongs, and how to reach a peer.
public final class ClusterNetwork: PeerNetwork {
    private let directory: PeerDirectory
    private let client: PeerClient
    private let readiness: Readiness
    private let apiKey: @Sendable () -> String?

    public init(directory: PeerDirectory, client: PeerClient, readiness: Readiness, apiKey: @escaping @Sendable () -> String?) {
        self.directory = directory
        self.client = client
        self.readiness = readiness
        self.apiKey = apiKey
    }

    public var peers: [Peer] {
        directory.peers
    }

    /// The first peer to answer yes wins; when every peer has answered no,
    /// or failed, or the probe timeout passed, the answer is nil.
    ///
    /// Before concluding that no pod holds it, the members are re-resolved
    /// (at most every `missRefresh`, shared by concurrent lookups) and the new
    /// ones asked: pods that started together, or a pod that just joined,
    /// may not have been resolved or announced yet. While a pod drains, a
    /// key slot moves from it to another pod; probes that cross that move can
    /// both miss, so with a pod draining the peers are asked twice.
    public func locate(_ address: BlockAddress, on eventLoop: any EventLoop) -> EventLoopFuture<Peer?> {
        let asked = peers
        return firstHolder(of: address, among: asked, on: eventLoop).flatMap { [self] holder in
            if let holder { return eventLoop.makeSucceededFuture(holder) }
            return directory.refreshIfOlder(than: Self.missRefresh, on: eventLoop).flatMap { membership in
                let newcomers = membership.peers.filter { !asked.contains($0) }
                let again = membership.draining.isEmpty ? newcomers : membership.peers
                return self.firstHolder(of: address, among: again, on: eventLoop)
            }
        }
    }

    /// How stale the members may be when a lookup finds nothing.
    static let missRefresh = TimeAmount.milliseconds(100)

    private func firstHolder(of address: BlockAddress, among peers: [Peer], on eventLoop: any EventLoop) -> EventLoopFuture<Peer?> {
        guard !peers.isEmpty else { return eventLoop.makeSucceededFuture(nil) }
        let found = eventLoop.makePromise(of: Peer?.self)
        let unanswered = NIOLoopBoundBox(peers.count, eventLoop: eventLoop)
        for peer in peers {
            client.probe(address, peer: peer, on: eventLoop).whenSuccess { [directory] probe in
                unanswered.value -= 1
                switch probe {
                case .holds: found.succeed(peer)
                case .unreachable: directory.unreachable(peer)
                case .absent, .slow: break
                }
                if unanswered.value == 0 {
                    found.succeed(nil)
                }
            }
        }
        return found.futureResult
    }

    /// The rendezvous winner among the members that are not draining (this
    /// pod included unless it drains): nothing new goes to a leaving pod.
    public func home(of address: BlockAddress) -> Peer? {
        let membership = directory.membership
        let local = membership.local ?? directory.identity
        let candidates = (membership.members + (local.map { [$0] } ?? [])).filter { member in
            !membership.draining.contains(member) && !(member == local && readiness.isDraining)
        }
        guard let winner = Rendezvous.winner(among: Array(Set(candidates)), for: address), winner != local else { return nil }
        return winner
    }

    public func peerAnnounced(_ peer: Peer, state: PeerState) {
        guard peer != directory.identity else { return }
        directory.announce(peer, state: state)
    }

    /// Every `period`: re-resolve the members (on the blocking-I/O pool),
    /// then announce this pod to each of them. `onRefresh` sees the result.
    public func keepMembershipFresh(every period: TimeAmount, on eventLoop: any EventLoop, onRefresh: @escaping @Sendable (PeerDirectory.Membership) -> Void) -> RepeatedTask {
        eventLoop.scheduleRepeatedAsyncTask(initialDelay: .zero, delay: period) { [self] _ in
            NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) { self.directory.refresh() }.flatMap { membership in
                onRefresh(membership)
                return self.announce(self.readiness.isDraining ? .draining : .ready, to: membership.peers, on: eventLoop)
            }
        }
    }

    /// Tells every peer this pod drains: they keep asking it for what it
    /// holds, and place nothing new on it.
    public func announceDraining() async {
        try? await announce(.draining, to: directory.peers, on: client.eventLoopGroup.next()).get()
    }

    /// Tells every peer this pod is leaving, so none keeps probing it.
    public func announceDeparture() async {
        try? await announce(.gone, to: directory.peers, on: client.eventLoopGroup.next()).get()
    }

    private func announce(_ state: PeerState, to peers: [Peer], on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guard let identity = directory.identity else { return eventLoop.makeSucceededVoidFuture() }
        let key = apiKey()
        let sent = peers.map { client.announce(identity, state: state, apiKey: key, to: $0) }
        return EventLoopFuture.whenAllComplete(sent, on: eventLoop).map { _ in }
    }

    public func send(_ request: PeerRequest, to peer: Peer, on eventLoop: any EventLoop, sink: any PeerAnswerSink) {
        client.send(request, to: peer, on: eventLoop, sink: sink)
    }
}
