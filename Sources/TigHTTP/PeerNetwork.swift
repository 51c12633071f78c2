import NIOCore
import NIOHTTP1
import TigAddress
import TigStore

/// A peer pod, as `host:port`.
public struct Peer: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    /// Spelled once: placement ranks every member by it on every lookup.
    public let description: String

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
        self.description = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    public static func == (left: Peer, right: Peer) -> Bool {
        left.host == right.host && left.port == right.port
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(host)
        hasher.combine(port)
    }
}

/// Header that marks a request sent by a peer, with its proof (see
/// `PeerCredentials`): it is answered locally only, so forwarding can never
/// loop. Without a valid proof the request is a client's, and every
/// internal header on it is ignored.
public let peerAuthHeader = "X-Tig-Peer-Auth"

/// Header on a peer request for a channel's target: a channel found there is
/// refused rather than followed, so resolution stops after one hop.
public let noChannelHeader = "X-Tig-No-Channel"

/// Headers of a pod's announcement of itself to a peer (on `HEAD /healthz`):
/// its address as `host:port`, and its state.
public let peerHeader = "X-Tig-Peer"
public let peerStateHeader = "X-Tig-Peer-State"

/// What a pod announces about itself.
public enum PeerState: String, Sendable {
    /// Serving: probe it, place new slots on it.
    case ready
    /// Handing its blocks to the others: probe it, place nothing new on it.
    case draining
    /// Exited: forget it.
    case gone
}

/// Header of a `HEAD` answer: what the address holds, `content`, `slot` or
/// `channel` (the kind is public: anyone can tell by reading).
public let kindHeader = "X-Tig-Kind"

public enum BlockKindName {
    public static let content = "content"
    public static let slot = "slot"
    public static let channel = "channel"
}

/// Header on a peer's listing request: answer `<last use in ns> <path>`
/// lines, unformatted, so the asking pod can merge listings newest first.
public let listTimesHeader = "X-Tig-List-Times"

/// A request to send to a peer.
public struct PeerRequest {
    public var method: HTTPMethod
    /// Path and query, exactly as the peer should see them.
    public var uri: String
    /// Set for channel-target requests (see `noChannelHeader`).
    public var refuseChannels: Bool
    /// Set for listings gathered from the peers (see `listTimesHeader`).
    public var listTimes: Bool
    /// The spooled request body, for writes.
    public var body: IncomingBlock?
    /// The client's API key when it came in a header (`Authorization`),
    /// passed on the same way; one in the URI travels with it.
    public var apiKey: String?
    /// Request headers passed on as the client sent them: a read's
    /// conditions and range (`ReadConditions.headerNames`), so that the
    /// holder answers 304, 206 or 416 itself.
    public var passedOn = HTTPHeaders()
    /// Sending it twice does no more than sending it once: a connection
    /// that broke before any answer may then carry it again. Reads are,
    /// unless they take.
    public var repeatable: Bool

    public init(
        method: HTTPMethod, uri: String, refuseChannels: Bool = false, listTimes: Bool = false, body: IncomingBlock? = nil,
        apiKey: String? = nil
    ) {
        self.method = method
        self.uri = uri
        self.apiKey = apiKey
        self.refuseChannels = refuseChannels
        self.listTimes = listTimes
        self.body = body
        self.repeatable = body == nil && (method == .GET || method == .HEAD)
    }
}

/// A peer request that never reached the peer (refused, reset while
/// connecting, no route, connect timeout): the peer did nothing, so any
/// request, even one that changes something, may go elsewhere.
public struct PeerUnreachable: Error, CustomStringConvertible {
    public let peer: Peer
    public let underlying: any Error

    public init(peer: Peer, underlying: any Error) {
        self.peer = peer
        self.underlying = underlying
    }

    public var description: String {
        "\(peer) unreachable: \(underlying)"
    }
}

/// Receives a peer's answer as it streams in. Used on the event loop that
/// `PeerNetwork.send` was given; each returned future is backpressure.
public protocol PeerAnswerSink: AnyObject {
    func peerAnswerHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>
    func peerAnswerBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void>
    func peerAnswerEnd()
    func peerAnswerFailed(_ error: any Error)
}

/// Where an address lives: its homes, the top `--replicas` of the
/// rendezvous ranking of the live members (this pod among them or not).
public struct Placement: Sendable {
    /// Best first; the first is the primary home, where atomic key-slot
    /// operations run.
    public let homes: [Peer]
    /// This pod, as the peers know it (nil when it is not known).
    public let local: Peer?

    public init(homes: [Peer], local: Peer?) {
        self.homes = homes
        self.local = local
    }

    /// This pod is one of the homes (or there is no other pod).
    public var isHome: Bool {
        homes.isEmpty || homes.contains { $0 == local }
    }

    /// The primary home when it is another pod; nil when it is this one.
    public var remotePrimary: Peer? {
        guard let primary = homes.first, primary != local else { return nil }
        return primary
    }

    /// The homes other than this pod, best first.
    public var remoteHomes: [Peer] {
        homes.filter { $0 != local }
    }
}

/// Where a key slot is, outside its primary home.
public enum SlotHolder: Sendable, Equatable {
    case peer(Peer)
    /// Every member asked answered that it does not hold it.
    case nowhere
    /// A member asked did not answer in time.
    case unknown
}

/// Content blocks this pod relayed from their homes, kept in memory for the
/// next read (the cluster's hot cache, `--hot-cache-size`).
public protocol HotBlocks: Sendable {
    /// Relayed answers larger than this are not offered.
    var entryLimit: Int { get }
    /// Bytes of block data held.
    var bytes: Int { get }
    /// The block, if cached; a hit makes it the most recently read.
    func block(_ address: BlockAddress, now: ContinuousClock.Instant) -> [UInt8]?
    /// Keeps the body of a relayed `200` answer to a read of `address` that
    /// reset the block's timer, if it is that content block; returns whether
    /// it was kept.
    func offer(_ address: BlockAddress, bytes: [UInt8], now: ContinuousClock.Instant) -> Bool
}

/// What the HTTP front asks of the cluster, once per address. The cluster
/// module implements it; a pod without peers has none.
public protocol PeerNetwork: Sendable {
    /// The other pods, as last resolved.
    var peers: [Peer] { get }

    /// The hot cache; nil when it is off.
    var hotBlocks: (any HotBlocks)? { get }

    /// Whether a request comes from a member: its proof is valid and, without
    /// a cluster secret, its source address is one the members resolve to.
    func isPeerRequest(_ head: HTTPRequestHead, from remoteIP: String?) -> Bool

    /// A member announced itself (see `peerHeader`).
    func peerAnnounced(_ peer: Peer, state: PeerState)

    /// Where `address` belongs now.
    func placement(of address: BlockAddress) -> Placement

    /// Where else to look when the homes do not hold `address` (one peer
    /// found by asking, or nil): in a steady cluster only the primary home
    /// before the last membership change, which may not have handed it over
    /// yet; right after a change, or when a home failed (`degraded`), every
    /// member except `asked`.
    func fallback(for address: BlockAddress, excluding asked: [Peer], degraded: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<Peer?>

    /// Where a key slot is now, for an operation that must run where it is:
    /// the members `fallback` would ask (except `asked`), waited on longer;
    /// `unknown` when one did not answer, since it may hold the slot.
    func slotHolder(of address: BlockAddress, excluding asked: [Peer], on eventLoop: any EventLoop) -> EventLoopFuture<SlotHolder>

    /// Whether `address` may be moving between pods now: right after a
    /// membership change, or while its primary before the change may still
    /// hand it over. A lookup that missed then looks at the homes again.
    func mayBeMoving(_ address: BlockAddress) -> Bool

    /// The homes, asked in rank order (`HEAD`), then the fallback: the first
    /// member that holds `address`, or nil.
    func locate(_ address: BlockAddress, on eventLoop: any EventLoop) -> EventLoopFuture<Peer?>

    /// Sends `request` to `peer` (with the peer proof) and streams the answer
    /// into `sink`, calling it on `eventLoop`.
    func send(_ request: PeerRequest, to peer: Peer, on eventLoop: any EventLoop, sink: any PeerAnswerSink)
}
