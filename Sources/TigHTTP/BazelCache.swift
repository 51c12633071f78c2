import TigAddress

/// Bazel's HTTP remote-cache protocol (bazel-remote is its reference
/// server): `[/<instance>]/cas/<sha256>` holds content — bytes stored and
/// answered only under their own SHA-256 — and `[/<instance>]/ac/<sha256>`
/// holds action results, mutable entries keyed by an action's digest.
///
/// Both map onto tig's own addresses, so they are cluster-wide like every
/// block: a CAS entry is the content block at its hash; an action-cache
/// entry is a key slot at an address derived from the instance and the
/// digest under a domain of its own, so an action-cache write can never land
/// on a content block or on a key slot a client chose (reaching it needs a
/// SHA-256 preimage). The instance is the path Bazel puts before `/cas/`
/// (`--remote_cache=https://host/<instance>`); content is the same in every
/// instance, action results are kept apart per instance.
public enum BazelArea: Equatable, Sendable {
    case contentStore
    case actionCache

    /// Longest instance prefix accepted, in bytes.
    static let maximumInstanceLength = 256

    /// The tig address and area of a Bazel path, or nil when `path` is not
    /// one. Instance segments are letters, digits, `.`, `_` and `-`, never
    /// `.` or `..`.
    static func route(_ path: Substring.UTF8View) -> (BlockAddress, BazelArea)? {
        guard path.count > 64, let slash = path.dropLast(64).lastIndex(of: UInt8(ascii: "/")),
              let digest = BlockAddress(hex: path[path.index(after: slash)...]) else { return nil }
        let front = path[..<slash]
        let areaStart = front.lastIndex(of: UInt8(ascii: "/")) ?? front.startIndex
        let instance = front[..<areaStart]
        guard front.first == UInt8(ascii: "/"), instance.count <= maximumInstanceLength, isInstance(instance) else { return nil }
        switch String(Substring(front[areaStart...])) {
        case "/cas": return (digest, .contentStore)
        case "/ac": return (actionAddress(instance: instance, digest: digest), .actionCache)
        default: return nil
        }
    }

    /// The key slot holding the action result for `digest` in `instance`.
    static func actionAddress(instance: Substring.UTF8View, digest: BlockAddress) -> BlockAddress {
        let hasher = SHA256Hasher()
        hasher.update("tig bazel action cache\0".utf8)
        hasher.update(Array(instance))
        hasher.update([0])
        hasher.update(digest.bytes)
        return hasher.finish()
    }

    /// Empty, or `/segment` repeated.
    private static func isInstance(_ text: Substring.UTF8View) -> Bool {
        guard !text.isEmpty else { return true }
        guard text.first == UInt8(ascii: "/") else { return false }
        return Substring(text).dropFirst().split(separator: "/", omittingEmptySubsequences: false).allSatisfy { segment in
            !segment.isEmpty && segment != "." && segment != ".."
                && segment.utf8.allSatisfy { byte in
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                        || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
                }
        }
    }
}
