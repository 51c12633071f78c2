import NIOCore
import TigAddress
import TigHTTP
import TigStore

/// The cluster as the HTTP front sees it: who holds an address (asked of all
/// peers in parallel), where a new key slot belongs, and how to reach a peer.
public final class ClusterNetwork: PeerNetwork {
    private let directory: PeerDirectory
    private let client: PeerClient
    private let readiness: Readiness

    public init(directory: PeerDirectory, client: PeerClient, readiness: Readiness) {
        self.directory = directory
        self.client = client
        self.readiness = readiness
    }

    public var peers: [Peer] {
        directory.peers
    }

    /// The first peer to answer yes wins; when every peer has answered no,
    /// or failed, or the probe timeout passed, the answer is nil.
    public func locate(_ address: BlockAddress, on eventLoop: any EventLoop) -> EventLoopFuture<Peer?> {
        let peers = self.peers
        guard !peers.isEmpty else { return eventLoop.makeSucceededFuture(nil) }
        let found = eventLoop.makePromise(of: Peer?.self)
        let unanswered = NIOLoopBoundBox(peers.count, eventLoop: eventLoop)
        for peer in peers {
            client.holds(address, peer: peer, on: eventLoop).whenSuccess { holds in
                unanswered.value -= 1
                if holds {
                    found.succeed(peer)
                } else if unanswered.value == 0 {
                    found.succeed(nil)
                }
            }
        }
        return found.futureResult
    }

    /// The rendezvous winner among the members; a draining pod leaves itself
    /// out, so it never becomes the home of anything new.
    public func home(of address: BlockAddress) -> Peer? {
        let membership = directory.membership
        var members = membership.members
        if readiness.isDraining, let local = membership.local {
            members.removeAll { $0 == local }
        }
        guard let winner = Rendezvous.winner(among: members, for: address), winner != membership.local else { return nil }
        return winner
    }

    public func send(_ request: PeerRequest, to peer: Peer, on eventLoop: any EventLoop, sink: any PeerAnswerSink) {
        client.send(request, to: peer, on: eventLoop, sink: sink)
    }
}
