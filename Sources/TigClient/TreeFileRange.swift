import NIOCore
import TigAddress

/// Reads a byte range of one file in a stored tree, fetching only the chunks
/// the range covers (seekable access into a pushed tree). The manifests on
/// the way, the file block and every chunk fetched are verified against
/// their addresses, so unlike a range of a single block the bytes are
/// checked. The chunks' sizes come from `HEAD` answers (a file block lists
/// only addresses); their sum must be the file's size in the verified
/// manifest, and each chunk fetched must have the size its `HEAD` said.
public struct TreeFileRange: Sendable {
    public let server: BlockServer

    public init(server: BlockServer) {
        self.server = server
    }

    /// Writes `range` of the file at `path` (components below the root) into `output`.
    public func read(_ path: [[UInt8]], in root: BlockAddress, range: ByteRange, into output: StagedOutput) async throws {
        let (fileBlock, size) = try await locate(path, in: root)
        guard let wanted = range.resolved(size: size) else {
            throw TigClientError.invalidArgument("range \(range.header) starts past the end of the \(size)-byte file")
        }
        let chunks = try FileBlock.decode(try await server.get(fileBlock).readableBytesView)
        let sizes = try await Pipeline.map(chunks) { chunk in
            guard let length = try await server.length(of: chunk) else { throw TigClientError.notFound(chunk, server: server.url) }
            return Int64(length)
        }
        guard sizes.reduce(0, +) == size else {
            throw TigClientError.inconsistent("the chunks of \(fileBlock) add up to \(sizes.reduce(0, +)) bytes, the tree says \(size)")
        }
        var offset: Int64 = 0
        for (chunk, length) in zip(chunks, sizes) {
            defer { offset += length }
            let start = max(wanted.lowerBound, offset), end = min(wanted.upperBound, offset + length)
            guard start < end else { continue }
            let covered = start..<end
            var bytes = try await server.get(chunk)
            guard bytes.readableBytes == length else {
                throw TigClientError.inconsistent("\(chunk) has \(bytes.readableBytes) bytes, its HEAD said \(length)")
            }
            bytes.moveReaderIndex(forwardBy: Int(covered.lowerBound - offset))
            try output.write(bytes.readSlice(length: covered.count) ?? ByteBuffer())
        }
    }

    /// The file block and size of the file at `path`, walking only the
    /// manifests on the way.
    private func locate(_ path: [[UInt8]], in root: BlockAddress) async throws -> (BlockAddress, Int64) {
        guard !path.isEmpty else { throw TigClientError.invalidArgument("name a file in the tree") }
        var directory = root
        for (depth, name) in path.enumerated() {
            let manifest = try StoredTree.decodeManifest(try await server.get(directory), at: directory)
            let shown = path.prefix(depth + 1).map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
            guard let entry = manifest.entries.first(where: { $0.name == name }) else {
                throw TigClientError.invalidArgument("no \(shown) in the tree \(root)")
            }
            switch entry.content {
            case .directory(let next) where depth < path.count - 1:
                directory = next
            case .file(let fileBlock, _) where depth == path.count - 1:
                return (fileBlock, entry.size)
            default:
                throw TigClientError.invalidArgument("\(shown) in the tree \(root) is not \(depth == path.count - 1 ? "a file" : "a directory")")
            }
        }
        throw TigClientError.invalidArgument("name a file in the tree")
    }
}
