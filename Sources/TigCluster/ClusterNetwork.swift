import NIOCore
import NIOHTTP1
import NIOPosix
import TigAddress
import TigHTTP
import TigStore

/// The cluster as the HTTP front sees it: where an address lives (its
/// homes), where else to look while blocks move, which requests are the
/// members', and how to reach a peer.
public final class ClusterNetwork: PeerNetwork {
    private let directory: PeerDirectory
    private let client: PeerClient
    private let readiness: Readiness
    private let credentials: PeerCredentials
    private let replicas: Int
    /// How long after a membership change lookups that miss at the homes
    /// ask every member: long enough for every pod to learn the change and
    /// the rebalancers to start (see `Rebalancer`).
    private let settling: TimeAmount
    public let hotBlocks: (any HotBlocks)?

    public init(
        directory: PeerDirectory, client: PeerClient, readiness: Readiness, credentials: PeerCredentials,
        replicas: Int, settling: TimeAmount, hotCache: HotCache? = nil
    ) {
        self.hotBlocks = hotCache?.isEnabled == true ? hotCache : nil
        self.directory = directory
        self.client = client
        self.readiness = readiness
        self.credentials = credentials
        self.replicas = max(1, replicas)
        self.settling = settling
    }

    public var peers: [Peer] {
        directory.peers
    }

    // MARK: - Placement

    public func placement(of address: BlockAddress) -> Placement {
        let membership = directory.membership
        let local = directory.identity
        return Placement(homes: Placement.homes(of: address, among: candidates(membership, local: local), replicas: replicas), local: local)
    }

    /// The members a block may be placed on: the live ones, and this pod
    /// unless it drains (it knows itself before the source names it).
    func candidates(_ membership: PeerDirectory.Membership, local: Peer?, leaving: Bool? = nil) -> [Peer] {
        var live = membership.live
        let leaving = leaving ?? readiness.isDraining
        if let local {
            live.removeAll { $0 == local }
            if !leaving { live.append(local) }
        }
        return live
    }

    public func fallback(for address: BlockAddress, excluding asked: [Peer], degraded: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<Peer?> {
        fallbackPeers(for: address, excluding: asked, degraded: degraded, askingDown: hasDrainingPeer, on: eventLoop).flatMap { peers in
            self.firstHolder(of: address, among: peers, on: eventLoop).map { found in
                if case .holder(let peer) = found { peer } else { nil }
            }
        }
    }

    public func slotHolder(of address: BlockAddress, excluding asked: [Peer], on eventLoop: any EventLoop) -> EventLoopFuture<SlotHolder> {
        // Never members marked down: a slot's member is waited on for long
        // (`slotProbeTimeout`), which a dead one would cost every operation.
        fallbackPeers(for: address, excluding: asked, degraded: false, askingDown: false, on: eventLoop).flatMap { peers in
            // A draining member may hold any slot until its last handover
            // pass ends and it says it is gone, also once its listener is
            // closed: it is always asked, and its refusal is no "not here".
            // The members not to ask are asked then too: one that holds the
            // slot already may act on it (a handover to it cannot fork it).
            let local = self.directory.identity
            let draining = self.directory.membership.draining.filter { $0 != local }
            let extra = draining.isEmpty ? [] : Array(draining) + asked.filter { $0 != local }
            let peers = peers + Set(extra).subtracting(peers)
            return self.firstHolder(of: address, among: peers, patience: Self.slotProbeTimeout, refusalIsSilence: draining, on: eventLoop).map { found in
                switch found {
                case .holder(let peer): .peer(peer)
                case .none(degraded: false): .nowhere
                case .none(degraded: true): .unknown
                }
            }
        }
    }

    /// How long a member that may hold a key slot is waited on before an
    /// operation on the slot is refused (503): far longer than a read's
    /// probe, since acting elsewhere while it holds the slot would fork it
    /// (a `setifnot` won twice, appended lines dropped at the handover).
    static let slotProbeTimeout = TimeAmount.seconds(5)

    /// Who else may hold `address`: in a steady cluster only the primary
    /// home before the last change, which may not have handed it over yet;
    /// right after a change, while a member drains, or when a home failed,
    /// every member. A drain can outlast the settling window, and the
    /// draining pod hands each block to the home under its own view of the
    /// members, which under load (a peer marked down by a timeout) may not
    /// be this pod's: so while one drains, a miss asks everyone.
    private func fallbackPeers(
        for address: BlockAddress, excluding asked: [Peer], degraded: Bool, askingDown: Bool, on eventLoop: any EventLoop
    ) -> EventLoopFuture<[Peer]> {
        guard degraded || isUnsettled else {
            // A pod that joined since this one last looked may be the home
            // another member stored the block on: look again (at most every
            // `missRefresh`, shared) before a miss is final.
            return directory.refreshIfOlder(than: Self.missRefresh, on: eventLoop).flatMap { _ in
                if self.isUnsettled {
                    return self.fallbackPeers(for: address, excluding: asked, degraded: true, askingDown: askingDown, on: eventLoop)
                }
                guard let primary = self.previousPrimary(of: address), !asked.contains(primary) else {
                    return eventLoop.makeSucceededFuture([])
                }
                return eventLoop.makeSucceededFuture([primary])
            }
        }
        // Right after a change the members may not agree yet on who is in
        // the cluster: re-resolve (at most every `missRefresh`, shared by
        // concurrent lookups), then ask every member not asked yet. Members
        // marked down are left out, unless `askingDown` (reads while another
        // member drains) and they are not draining themselves (gone): a
        // connect that timed out on two loaded cores marks a live peer down
        // until its next announcement, which can leave the draining pod as
        // the only one asked, and it has already handed the block on. A
        // truly dead member then costs a read that missed everywhere one
        // probe timeout, only while a drain lasts.
        return directory.refreshIfOlder(than: Self.missRefresh, on: eventLoop).map { membership in
            membership.peers.filter { peer in
                !asked.contains(peer) && (!membership.down.contains(peer) || (askingDown && !membership.draining.contains(peer)))
            }
        }
    }

    public func mayBeMoving(_ address: BlockAddress) -> Bool {
        isUnsettled || previousPrimary(of: address) != nil
    }

    /// The members changed within the settling window, or one is draining.
    private var isUnsettled: Bool {
        directory.changed(within: settling) || hasDrainingPeer
    }

    /// Another member than this pod is draining and still answers: a pod
    /// that crashed counts as draining for a while after it left DNS, and
    /// is down then; it holds nothing anyone can read.
    private var hasDrainingPeer: Bool {
        let membership = directory.membership
        return membership.draining.contains { $0 != directory.identity && !membership.down.contains($0) }
    }

    /// The primary of `address` before the last change, when that was
    /// another member than now and still is one.
    private func previousPrimary(of address: BlockAddress) -> Peer? {
        guard let previous = directory.previous,
              let primary = Rendezvous.winner(among: previous.members, for: address),
              primary != directory.identity, directory.membership.members.contains(primary),
              primary != placement(of: address).homes.first
        else { return nil }
        return primary
    }

    /// How stale the members may be when a lookup finds nothing.
    static let missRefresh = TimeAmount.milliseconds(100)

    public func locate(_ address: BlockAddress, on eventLoop: any EventLoop) -> EventLoopFuture<Peer?> {
        let homes = placement(of: address).remoteHomes
        return firstHolder(of: address, inOrder: homes[...], degraded: false, on: eventLoop).flatMap { found in
            switch found {
            case .holder(let peer): eventLoop.makeSucceededFuture(peer)
            case .none(let degraded): self.fallback(for: address, excluding: homes, degraded: degraded, on: eventLoop)
            }
        }
    }

    private enum Search {
        case holder(Peer)
        case none(degraded: Bool)
    }

    /// Asks `homes` one after the other; a home that fails makes the search
    /// degraded (its blocks may be elsewhere).
    private func firstHolder(of address: BlockAddress, inOrder homes: ArraySlice<Peer>, degraded: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<Search> {
        guard let home = homes.first else { return eventLoop.makeSucceededFuture(.none(degraded: degraded)) }
        return client.probe(address, peer: home, on: eventLoop).flatMap { probe in
            switch probe {
            case .holds: return eventLoop.makeSucceededFuture(.holder(home))
            case .absent: return self.firstHolder(of: address, inOrder: homes.dropFirst(), degraded: degraded, on: eventLoop)
            case .slow, .broken, .unreachable: return self.firstHolder(of: address, inOrder: homes.dropFirst(), degraded: true, on: eventLoop)
            }
        }
    }

    /// Asks `peers` in parallel: the first to answer yes wins; when every
    /// one has answered no or could not be reached, none; when one did not
    /// answer within `patience` (the probe timeout by default), or its
    /// connection broke, or one of `refusalIsSilence` refused it, none,
    /// degraded.
    private func firstHolder(of address: BlockAddress, among peers: [Peer], patience: TimeAmount? = nil, refusalIsSilence: Set<Peer> = [], on eventLoop: any EventLoop) -> EventLoopFuture<Search> {
        guard !peers.isEmpty else { return eventLoop.makeSucceededFuture(.none(degraded: false)) }
        let found = eventLoop.makePromise(of: Search.self)
        let unanswered = NIOLoopBoundBox((count: peers.count, degraded: false), eventLoop: eventLoop)
        for peer in peers {
            client.probe(address, peer: peer, within: patience, on: eventLoop).whenSuccess { probe in
                unanswered.value.count -= 1
                if probe == .holds { found.succeed(.holder(peer)) }
                if probe == .slow || probe == .broken || (probe == .unreachable && refusalIsSilence.contains(peer)) {
                    unanswered.value.degraded = true
                }
                if unanswered.value.count == 0 { found.succeed(.none(degraded: unanswered.value.degraded)) }
            }
        }
        return found.futureResult
    }

    // MARK: - Members

    public func isPeerRequest(_ head: HTTPRequestHead, from remoteIP: String?) -> Bool {
        guard let proof = head.headers.first(name: peerAuthHeader),
              credentials.accepts(proof, method: head.method, uri: head.uri)
        else { return false }
        if credentials.hasSecret { return true }
        guard let remoteIP, directory.isMember(host: remoteIP) else {
            // Perhaps a pod the source names since the last refresh (it
            // announces itself as soon as it starts): look again soon.
            _ = directory.refreshIfOlder(than: Self.missRefresh, on: client.eventLoopGroup.next())
            return false
        }
        return true
    }

    public func peerAnnounced(_ peer: Peer, state: PeerState) {
        guard peer != directory.identity else { return }
        directory.announce(peer, state: state)
    }

    /// Every `period`: re-resolve the members (on the blocking-I/O pool),
    /// then announce this pod to each of them; a member that answers is up,
    /// one that cannot be reached is down. `onRefresh` sees the result. The
    /// pod is not ready before the first resolution.
    public func keepMembershipFresh(every period: TimeAmount, on eventLoop: any EventLoop, onRefresh: @escaping @Sendable (PeerDirectory.Membership) -> Void) -> RepeatedTask {
        readiness.awaitMembership()
        return eventLoop.scheduleRepeatedAsyncTask(initialDelay: .zero, delay: period) { [self] _ in
            NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) { self.directory.refresh() }.flatMap { membership in
                self.readiness.membershipResolved()
                return self.announce(self.readiness.isDraining ? .draining : .ready, to: membership.peers, on: eventLoop).map {
                    onRefresh(self.directory.membership)
                }
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
        let sent = peers.map { peer in
            client.announce(identity, state: state, to: peer).map { self.directory.reachable(peer) }
        }
        return EventLoopFuture.whenAllComplete(sent, on: eventLoop).map { _ in }
    }

    public func send(_ request: PeerRequest, to peer: Peer, on eventLoop: any EventLoop, sink: any PeerAnswerSink) {
        client.send(request, to: peer, on: eventLoop, sink: sink)
    }
}

extension Placement {
    /// The top `replicas` of the rendezvous ranking of `candidates`.
    static func homes(of address: BlockAddress, among candidates: [Peer], replicas: Int) -> [Peer] {
        Array(Rendezvous.ranked(candidates, for: address).prefix(replicas))
    }
}
