import TigAddress

/// What `verify` checked.
public struct VerificationSummary: Sendable, Equatable {
    public var directories = 0
    public var files = 0
    public var symlinks = 0
    /// Bytes of all files, as the tree records them.
    public var bytes: Int64 = 0
    /// Distinct blocks fetched and checked.
    public var blocks = 0
}

/// Checks a stored tree end to end: every manifest, file block and chunk is
/// fetched and hashed, every manifest parsed, every size matched. Distinct
/// files are checked once.
public struct TreeVerifier {
    public let server: BlockServer

    public init(server: BlockServer) {
        self.server = server
    }

    public func verify(_ root: BlockAddress, progress: ProgressBar?) async throws -> VerificationSummary {
        let tree = try await StoredTree.fetch(root, from: server)
        let chunkLists = try await tree.fetchChunkLists(from: server)
        var summary = VerificationSummary()
        var distinctFiles: [BlockAddress: StoredFile] = [:]
        tree.walk { path, entry in
            switch entry.content {
            case .directory: summary.directories += 1
            case .symlink: summary.symlinks += 1
            case .file(let block, let executable):
                summary.files += 1
                summary.bytes += entry.size
                distinctFiles[block] = StoredFile(path: path, size: entry.size, executable: executable, chunks: chunkLists[block] ?? [])
            }
        }
        let files = Array(distinctFiles.values)
        progress?.setTotal(files.reduce(0) { $0 + $1.size })
        // ContentStream checks every chunk's hash and every file's length.
        try await ContentStream.deliver(files, from: server, progress: progress) { _ in }
        summary.blocks = tree.manifestCount + chunkLists.count + Set(chunkLists.values.joined()).count
        return summary
    }
}
