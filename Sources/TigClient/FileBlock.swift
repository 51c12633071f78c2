import TigAddress

/// A stored file: a block listing its chunks' paths in order, each line
/// `/<64 hex>.tig` and a newline. It is a valid burst list, so
/// `GET /<file block>.tig?burst=1` answers the file's bytes. An empty file
/// is the empty block.
public enum FileBlock {
    public static func encode(_ chunks: [BlockAddress]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(chunks.count * (BlockAddress.pathLength + 1))
        for chunk in chunks {
            bytes += chunk.path.utf8
            bytes.append(UInt8(ascii: "\n"))
        }
        return bytes
    }

    /// Accepts exactly what `encode` produces.
    public static func decode<Bytes: BidirectionalCollection<UInt8>>(_ bytes: Bytes) throws -> [BlockAddress] {
        guard bytes.isEmpty || bytes.last == UInt8(ascii: "\n") else {
            throw TigClientError.malformed(what: "file block", reason: "the last line has no newline")
        }
        return try bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast().map { line in
            guard let address = BlockAddress(path: line) else {
                throw TigClientError.malformed(what: "file block", reason: "a line is not a block path")
            }
            return address
        }
    }
}
