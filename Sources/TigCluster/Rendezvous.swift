import TigAddress
import TigHTTP
import TigStore

/// Rendezvous (highest random weight) hashing: every pod ranks the members for
/// an address the same way, with no coordination, and when a member leaves
/// only the addresses it won move. Used to place new key slots and to spread
/// a draining pod's blocks evenly.
///
/// The score must be the same in every process, so it is a fixed function
/// (FNV-1a of the member, mixed with the address by SplitMix64), not Swift's
/// per-process seeded `Hasher`.
public enum Rendezvous {
    public static func score(of member: Peer, for address: BlockAddress) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in member.description.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let words = address.words
        hash = mix(hash ^ words.0)
        hash = mix(hash ^ words.1)
        hash = mix(hash ^ words.2)
        return mix(hash ^ words.3)
    }

    /// Members best first.
    public static func ranked(_ members: [Peer], for address: BlockAddress) -> [Peer] {
        members
            .map { (member: $0, score: score(of: $0, for: address)) }
            .sorted { ($0.score, $0.member.description) > ($1.score, $1.member.description) }
            .map(\.member)
    }

    public static func winner(among members: [Peer], for address: BlockAddress) -> Peer? {
        members.max { (score(of: $0, for: address), $0.description) < (score(of: $1, for: address), $1.description) }
    }

    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
