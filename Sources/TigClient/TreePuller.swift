import TigAddress

/// Restores a stored tree into a directory: names, bytes, executable bits
/// and symlinks, every block verified. The tree is built in a hidden
/// directory next to the destination and renamed into place only when
/// complete, so a failure leaves no partial tree.
public struct TreePuller {
    public let server: BlockServer

    public init(server: BlockServer) {
        self.server = server
    }

    /// `destination` must not exist or be an empty directory.
    public func pull(_ root: BlockAddress, into destination: RawPath, progress: ProgressBar?) async throws {
        switch try FileSystem.existingKind(of: destination) {
        case nil: break
        case .directory where try FileSystem.names(in: destination).isEmpty: break
        default: throw TigClientError.destinationNotEmpty(destination.description)
        }
        let tree = try await StoredTree.fetch(root, from: server)
        let chunkLists = try await tree.fetchChunkLists(from: server)
        progress?.setTotal(tree.size)

        let staging = TemporaryName.beside(destination, purpose: "pull")
        try FileSystem.makeDirectory(staging, permissions: 0o755)
        do {
            let files = try makeSkeleton(of: tree, in: staging, chunkLists: chunkLists)
            try await writeFiles(files, in: staging, progress: progress)
            try FileSystem.rename(staging, to: destination)
        } catch {
            try? FileSystem.removeTree(staging)
            throw error
        }
    }

    /// Creates the directories and symlinks; answers the files to write.
    private func makeSkeleton(
        of tree: StoredTree, in staging: RawPath, chunkLists: [BlockAddress: [BlockAddress]]
    ) throws -> [StoredFile] {
        var files: [StoredFile] = []
        try tree.walk { path, entry in
            let target = staging.appending(path.bytes)
            switch entry.content {
            case .directory:
                try FileSystem.makeDirectory(target, permissions: 0o755)
            case .symlink(let link):
                try FileSystem.makeSymlink(target, target: link)
            case .file(let block, let executable):
                files.append(StoredFile(path: path, size: entry.size, executable: executable, chunks: chunkLists[block] ?? []))
            }
        }
        return files
    }

    private func writeFiles(_ files: [StoredFile], in staging: RawPath, progress: ProgressBar?) async throws {
        var open: OpenFile?
        try await ContentStream.deliver(files, from: server, progress: progress) { event in
            switch event {
            case .begin(let file):
                open = try OpenFile.creating(staging.appending(file.path.bytes), mode: 0o600)
            case .bytes(let bytes):
                try open?.write(bytes)
            case .end(let file):
                try open?.setPermissions(file.executable ? 0o755 : 0o644)
                open = nil
            }
        }
    }
}
