import Glibc
import TigAddress

/// Names for files and directories that exist only until an operation
/// succeeds: hidden, tagged with the tool and a random suffix, so they
/// never collide with the user's names or with each other.
enum TemporaryName {
    /// `<parent>/.<name>.tig-<purpose>-<random>`, next to `destination` (on
    /// the same file system, so a rename can put it in place).
    static func beside(_ destination: RawPath, purpose: String) -> RawPath {
        destination.parent.appending(Array(".".utf8) + destination.lastComponent + suffix(purpose))
    }

    /// `$TMPDIR/<purpose>-<random>` (or under /tmp).
    static func inTemporaryDirectory(_ purpose: String) -> RawPath {
        let directory = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return RawPath(directory).appending(Array(purpose.utf8) + suffix(""))
    }

    private static func suffix(_ purpose: String) -> [UInt8] {
        let tag = purpose.isEmpty ? "" : ".tig-\(purpose)"
        return Array("\(tag)-\(BlockAddress.random().hex.prefix(16))".utf8)
    }
}
