import NIOCore
import TigAddress

/// One keepalive pass over a list of paths.
public struct KeepAliveReport: Sendable {
    /// Blocks whose retention timers were reset.
    public var touched = 0
    /// Listed paths with a problem (missing themselves, or missing a block
    /// of their tree), and what it is.
    public var problems: [(listed: BlockAddress, problem: String)] = []
}

/// Resets the retention timers of listed blocks and of everything their
/// trees need, so they outlive the retention period while the list names
/// them. A touch is a GET (a HEAD would not reset the timer), with the body
/// of large blocks left unread.
public struct KeepAlive {
    public let server: BlockServer

    /// Listed blocks up to this size are read to see whether they are a tree
    /// or a file block; larger ones are only touched.
    static let inspectLimit = 16 << 20
    /// Blocks below a listed path are read only up to this size (keeping the
    /// connection open); larger ones are abandoned after the answer's head.
    static let chunkReadLimit = 64 << 10

    public init(server: BlockServer) {
        self.server = server
    }

    /// Parses a list: one block path per line; blank lines and lines
    /// starting with `#` are skipped, surrounding blanks ignored.
    public static func parseList(_ text: [UInt8]) throws -> [BlockAddress] {
        let blanks: Set<UInt8> = [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r")]
        var paths: [BlockAddress] = []
        for (number, line) in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let content = line.drop { blanks.contains($0) }.reversed().drop { blanks.contains($0) }.reversed()
            if content.isEmpty || content.first == UInt8(ascii: "#") { continue }
            guard let address = BlockAddress(path: Array(content)) else {
                throw TigClientError.invalidArgument("line \(number + 1) of the list is not a block path /<64 hex>.tig")
            }
            paths.append(address)
        }
        return paths
    }

    /// Touches each listed block and, when it is a tree manifest, every
    /// block of the tree; when it is a file block, every chunk it lists.
    public func touch(_ listed: [BlockAddress]) async -> KeepAliveReport {
        var report = KeepAliveReport()
        for address in listed {
            do {
                guard case .present(let bytes) = try await server.touch(address, readingUpTo: Self.inspectLimit) else {
                    report.problems.append((address, "\(address) is not stored on \(server.url)"))
                    continue
                }
                report.touched += 1
                try await touchBelow(address, bytes: bytes, report: &report)
            } catch {
                report.problems.append((address, String(describing: error)))
            }
        }
        return report
    }

    private func touchBelow(_ address: BlockAddress, bytes: ByteBuffer?, report: inout KeepAliveReport) async throws {
        // Too large to inspect, or a key slot (not its own hash): no tree.
        guard let bytes, Block.address(of: bytes) == address else { return }
        if TreeManifest.hasHeader(bytes.readableBytesView) {
            // Fetching the tree's manifests and file blocks touches them.
            let tree = try await StoredTree.fetch(address, from: server)
            let chunkLists = try await tree.fetchChunkLists(from: server)
            report.touched += tree.manifestCount - 1 + chunkLists.count
            try await touchBlocks(Array(Set(chunkLists.values.joined())), below: address, report: &report)
        } else if let chunks = try? FileBlock.decode(bytes.readableBytesView) {
            try await touchBlocks(Array(Set(chunks)), below: address, report: &report)
        }
    }

    private func touchBlocks(_ blocks: [BlockAddress], below listed: BlockAddress, report: inout KeepAliveReport) async throws {
        var missing = 0
        let server = server
        try await Pipeline.run(blocks) { block in
            try await server.touch(block, readingUpTo: Self.chunkReadLimit)
        } consume: { _, presence in
            if case .present = presence {
                report.touched += 1
            } else {
                missing += 1
            }
        }
        if missing > 0 {
            report.problems.append((listed, "\(missing) of the \(blocks.count) blocks \(listed) needs are missing on \(server.url)"))
        }
    }
}
