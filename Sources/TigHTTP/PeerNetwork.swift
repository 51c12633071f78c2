import NIOCore
import NIOHTTP1
import TigAddress
import TigStore

/// A peer pod, as `host:port`.
public struct Peer: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Header that marks a request sent by a peer: it is answered locally only,
/// so forwarding can never loop.
public let forwardedHeader = "X-Tig-Forwarded"

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

    public init(method: HTTPMethod, uri: String, refuseChannels: Bool = false, listTimes: Bool = false, body: IncomingBlock? = nil) {
        self.method = method
        self.uri = uri
        self.refuseChannels = refuseChannels
        self.listTimes = listTimes
        self.body = body
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

/// What the HTTP front asks of the cluster when an address is not stored
/// here. The cluster module implements it; a pod without peers has none.
public protocol PeerNetwork: Sendable {
    /// The other pods, as last resolved or announced.
    var peers: [Peer] { get }

    /// A peer announced itself (see `peerHeader`).
    func peerAnnounced(_ peer: Peer, state: PeerState)

    /// Asks every peer whether it holds `address`; succeeds with the first
    /// that does, or nil when none does within the peer timeout.
    func locate(_ address: BlockAddress, on eventLoop: any EventLoop) -> EventLoopFuture<Peer?>

    /// The pod where a new key slot at `address` belongs; nil means this one.
    func home(of address: BlockAddress) -> Peer?

    /// Sends `request` to `peer` (marked as forwarded) and streams the answer
    /// into `sink`, calling it on `eventLoop`.
    func send(_ request: PeerRequest, to peer: Peer, on eventLoop: any EventLoop, sink: any PeerAnswerSink)
}
