import TigAddress

/// What `tig join` needs to rebuild a file split with `tig split --xor`:
/// where each share is and the original's SHA-256 and size. Version 1:
///
///     tig-xor 1
///     sha256 <64 hex digits>
///     size <bytes, decimal>
///     share <server URL> /<64 hex>.tig        one line per share, at least two
///
/// A share's path names a block on that server listing the share's pieces
/// (like a file block, so `GET ?burst=1` on it answers the whole share).
/// Every line ends with a newline. The SHA-256 lets join check the result;
/// it also lets anyone holding the descriptor confirm a guess of the
/// content, so keep descriptors as private as the file.
public struct ShareDescriptor: Sendable, Equatable {
    public struct Share: Sendable, Equatable {
        public let server: String
        public let list: BlockAddress
    }

    public let sha256: BlockAddress
    public let size: Int64
    public let shares: [Share]

    public init(sha256: BlockAddress, size: Int64, shares: [Share]) {
        self.sha256 = sha256
        self.size = size
        self.shares = shares
    }

    public var encoded: String {
        var text = "tig-xor 1\nsha256 \(sha256.hex)\nsize \(size)\n"
        for share in shares {
            text += "share \(share.server) \(share.list.path)\n"
        }
        return text
    }

    public init(decoding bytes: [UInt8]) throws {
        guard bytes.last == UInt8(ascii: "\n") else { throw Self.malformed("the last line has no newline") }
        let lines = bytes.dropLast().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        guard lines.count >= 5, lines[0] == "tig-xor 1" else {
            throw Self.malformed("expected \"tig-xor 1\", the sha256 and size lines and at least two shares")
        }
        guard lines[1].hasPrefix("sha256 "), let sha256 = BlockAddress(hex: String(lines[1].dropFirst(7))) else {
            throw Self.malformed("the second line is not \"sha256 <64 hex digits>\"")
        }
        guard lines[2].hasPrefix("size "), let size = Int64(lines[2].dropFirst(5)), size >= 0 else {
            throw Self.malformed("the third line is not \"size <bytes>\"")
        }
        self.sha256 = sha256
        self.size = size
        self.shares = try lines.dropFirst(3).map { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 3, fields[0] == "share", let list = BlockAddress(path: String(fields[2])) else {
                throw Self.malformed("a share line is not \"share <server URL> /<64 hex>.tig\"")
            }
            return Share(server: String(fields[1]), list: list)
        }
    }

    private static func malformed(_ reason: String) -> TigClientError {
        .malformed(what: "share descriptor", reason: reason)
    }
}
