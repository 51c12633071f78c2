import Glibc
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TigHTTP

/// Who is in the cluster.
///
/// Two sources, merged: the headless Service's DNS name resolved with the
/// system resolver (so Kubernetes DNS and /etc/resolv.conf work unchanged),
/// or a static list, re-resolved every refresh period; and the pods'
/// announcements of themselves (see `announce`). DNS alone lags: a new pod
/// is known only at the next refresh, and Kubernetes drops a stopping pod
/// from DNS as soon as it terminates, while it still holds blocks it is
/// draining. Announcements close both gaps: a pod announces itself to every
/// peer as soon as it serves and every refresh period after, as draining
/// while it drains, and as gone when it exits; and a pod that leaves DNS
/// without having said it left counts as draining for a while.
///
/// This pod is the member whose address is one of its own (`POD_IP` or an
/// interface address) on its own port.
public final class PeerDirectory: Sendable {
    public enum Source: Sendable {
        /// A DNS name; every address it resolves to is a pod on `port`.
        case dns(name: String, port: Int)
        /// Fixed `host:port` entries (host names are resolved too).
        case fixed([Peer])
    }

    public struct Membership: Sendable, Equatable {
        /// Every member, this pod included when the source names it.
        public var members: [Peer]
        /// This pod, when it is a member.
        public var local: Peer?
        /// Members that announced they are draining: they still answer for
        /// what they hold, but nothing new is placed on them.
        public var draining: Set<Peer>
        /// Members that could not be reached lately (refused, reset, timed
        /// out); re-probed by the next announcement.
        public var down: Set<Peer> = []

        public var peers: [Peer] {
            members.filter { $0 != local }
        }

        /// Where new blocks may go: members neither draining nor down.
        public var live: [Peer] {
            members.filter { !draining.contains($0) && !down.contains($0) }
        }
    }

    /// The members before the last change, and until when they count (as
    /// where a block may still wait for its handover).
    public struct Previous: Sendable {
        public let members: [Peer]
        public let until: NIODeadline
    }

    private struct State {
        var resolved: [Peer] = []
        var local: Peer?
        var announced: [Peer: (expires: NIODeadline, state: PeerState)] = [:]
        var down: Set<Peer> = []
        var membership = Membership(members: [], local: nil, draining: [])
        var previous: Previous?
        var changedAt = NIODeadline.now()

        /// Recomputes the merged view; true when it changed.
        mutating func merge(remembering memory: TimeAmount) -> Bool {
            let members = Set(resolved).union(announced.keys).sorted { $0.description < $1.description }
            let draining = Set(announced.filter { $0.value.state == .draining }.keys)
            down.formIntersection(members)
            let merged = Membership(members: members, local: local, draining: draining, down: down)
            defer { membership = merged }
            if merged.members != membership.members || merged.draining != membership.draining {
                let now = NIODeadline.now()
                previous = Previous(members: membership.members, until: now + memory)
                changedAt = now
            }
            return merged != membership
        }
    }

    private let source: Source
    private let ownPort: Int
    private let ownAddresses: Set<String>
    /// `POD_IP` on the pod's port, spelled once: every placement asks.
    private let podIdentity: Peer?
    /// How long an announcement counts without being renewed.
    private let announcementLifetime: TimeAmount
    /// Whether an announcement can add a member the source does not name:
    /// only when announcements are proven by the cluster secret.
    private let trustsAnnouncements: Bool
    /// How long the members before a change count as where blocks may
    /// still wait for their handover (the rebalancers' time to move them).
    private let previousMemory: TimeAmount
    private let state = NIOLockedValueBox(State())
    /// When the source was last resolved, and a resolution under way that
    /// callers of `refreshIfOlder` share.
    private let freshness = NIOLockedValueBox<(resolved: NIODeadline, pending: EventLoopFuture<Membership>?)>((.distantPast, nil))
    private let logger: Logger

    /// Resolves a source to addresses; the system resolver unless a test
    /// substitutes its own.
    public typealias Resolver = @Sendable (Source) -> [Peer]
    private let resolver: Resolver

    public init(
        source: Source, ownPort: Int, podIP: String?, announcementLifetime: TimeAmount, trustsAnnouncements: Bool = true,
        logger: Logger, resolver: @escaping Resolver = PeerDirectory.resolve
    ) {
        self.trustsAnnouncements = trustsAnnouncements
        self.source = source
        self.resolver = resolver
        self.ownPort = ownPort
        self.podIdentity = podIP.map { Peer(host: $0, port: ownPort) }
        self.ownAddresses = LocalAddresses.current().union(podIP.map { [$0] } ?? [])
        self.announcementLifetime = announcementLifetime
        self.previousMemory = announcementLifetime * 8
        self.logger = logger
    }

    public var membership: Membership {
        state.withLockedValue { $0.membership }
    }

    public var peers: [Peer] {
        membership.peers
    }

    /// How the peers reach this pod: `POD_IP` on its port, else its address
    /// in the source; nil when neither is known (it cannot announce itself).
    public var identity: Peer? {
        podIdentity ?? membership.local
    }

    /// Resolves the source now (blocking: call it off the event loops), drops
    /// announcements that were not renewed, and returns the new membership.
    @discardableResult
    public func refresh() -> Membership {
        let resolved = resolver(source)
        let now = NIODeadline.now()
        freshness.withLockedValue { $0.resolved = now }
        let lifetime = announcementLifetime
        return update { state in
            let local = resolved.first { ownAddresses.contains($0.host) && $0.port == ownPort }
            // A pod that leaves DNS may still be draining (Kubernetes drops a
            // terminating pod at once): it counts as draining until it says it
            // left, cannot be reached, or stays silent for an announcement's
            // lifetime.
            for departed in Set(state.resolved).subtracting(resolved) where departed != state.local {
                if state.announced[departed]?.state != .draining {
                    state.announced[departed] = (now + lifetime, .draining)
                }
            }
            state.resolved = resolved
            state.local = local
            state.announced = state.announced.filter { $0.value.expires > now }
        }
    }

    /// Re-resolves the source (on the blocking-I/O pool) unless it was
    /// resolved within `age`; concurrent callers share one resolution.
    public func refreshIfOlder(than age: TimeAmount, on eventLoop: any EventLoop) -> EventLoopFuture<Membership> {
        enum Step {
            case fresh
            case join(EventLoopFuture<Membership>)
            case lead(EventLoopPromise<Membership>)
        }
        let step: Step = freshness.withLockedValue { freshness in
            if let pending = freshness.pending { return .join(pending) }
            guard NIODeadline.now() - freshness.resolved >= age else { return .fresh }
            let promise = eventLoop.makePromise(of: Membership.self)
            freshness.pending = promise.futureResult
            return .lead(promise)
        }
        switch step {
        case .fresh:
            return eventLoop.makeSucceededFuture(membership)
        case .join(let pending):
            return pending.hop(to: eventLoop)
        case .lead(let promise):
            NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) { self.refresh() }.whenComplete { [freshness] result in
                freshness.withLockedValue { $0.pending = nil }
                promise.completeWith(result)
            }
            return promise.futureResult
        }
    }

    /// A peer said it is there (ready or draining), or that it left.
    /// Without trusted announcements, only a member can say so of itself.
    public func announce(_ peer: Peer, state peerState: PeerState) {
        let expires = NIODeadline.now() + announcementLifetime
        let trusted = trustsAnnouncements
        update { state in
            guard trusted || state.membership.members.contains(peer) else { return }
            if peerState == .gone {
                state.announced.removeValue(forKey: peer)
                state.resolved.removeAll { $0 == peer }
            } else {
                state.announced[peer] = (expires, peerState)
            }
        }
    }

    /// A peer could not be reached (refused, reset, timed out): it is down,
    /// so nothing waits on it, until an announcement reaches it again.
    public func unreachable(_ peer: Peer) {
        guard state.withLockedValue({ $0.membership.members.contains(peer) && !$0.down.contains(peer) }) else { return }
        update { _ = $0.down.insert(peer) }
    }

    /// A peer answered: it is up again.
    public func reachable(_ peer: Peer) {
        guard state.withLockedValue({ $0.down.contains(peer) }) else { return }
        update { _ = $0.down.remove(peer) }
    }

    /// Whether a member is at `host` (the source address of a request).
    public func isMember(host: String) -> Bool {
        state.withLockedValue { $0.membership.members.contains { $0.host == host } }
    }

    /// The members before the last change, while they still count.
    public var previous: Previous? {
        state.withLockedValue { state in state.previous.flatMap { $0.until > .now() ? $0 : nil } }
    }

    /// Whether the members changed within `window`.
    public func changed(within window: TimeAmount) -> Bool {
        NIODeadline.now() - state.withLockedValue { $0.changedAt } < window
    }

    @discardableResult
    private func update(_ change: (inout State) -> Void) -> Membership {
        let (membership, changed) = state.withLockedValue { state in
            change(&state)
            let changed = state.merge(remembering: previousMemory)
            return (state.membership, changed)
        }
        if changed {
            logger.info("peers-changed", metadata: [
                "peers": "\(membership.peers.map(\.description).joined(separator: ","))",
                "draining": "\(membership.draining.map(\.description).sorted().joined(separator: ","))",
                "self": "\(membership.local?.description ?? "not listed")",
                "down": "\(membership.down.map(\.description).sorted().joined(separator: ","))",
            ])
        }
        return membership
    }

    /// The members a source names, through the system resolver.
    public static func resolve(_ source: Source) -> [Peer] {
        switch source {
        case .dns(let name, let port):
            resolve(name).map { Peer(host: $0, port: port) }
        case .fixed(let entries):
            entries.flatMap { entry in resolve(entry.host).prefix(1).map { Peer(host: $0, port: entry.port) } }
        }
    }

    /// Addresses a name resolves to, as numeric strings; empty when it does
    /// not resolve (a headless Service with no ready pods has no records).
    static func resolve(_ name: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let address = current.pointee.ai_addr, let text = LocalAddresses.numeric(address) {
                addresses.append(text)
            }
            entry = current.pointee.ai_next
        }
        return addresses
    }
}

/// This machine's interface addresses, to recognise itself among the peers.
enum LocalAddresses {
    static func current() -> Set<String> {
        var first: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&first) == 0 else { return [] }
        defer { freeifaddrs(first) }
        var addresses: Set<String> = []
        var entry = first
        while let current = entry {
            if let address = current.pointee.ifa_addr, let text = numeric(address) {
                addresses.insert(text)
            }
            entry = current.pointee.ifa_next
        }
        return addresses
    }

    static func numeric(_ address: UnsafePointer<sockaddr>) -> String? {
        let family = Int32(address.pointee.sa_family)
        guard family == AF_INET || family == AF_INET6 else { return nil }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
        guard getnameinfo(address, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
        return String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
