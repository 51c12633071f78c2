import TigAddress

/// Stores a directory tree: each file as content-defined chunks and a file
/// block listing them, each directory as a manifest. The result is the root
/// manifest's address; equal files and subtrees share addresses, so a second
/// push uploads only what changed.
public struct TreePusher {
    public let server: BlockServer
    public let chunker: Chunker

    public init(server: BlockServer, chunker: Chunker) {
        self.server = server
        self.chunker = chunker
    }

    public func push(_ root: RawPath, progress: ProgressBar?) async throws -> (BlockAddress, TransferStatistics) {
        let tree = try LocalTree(scanning: root)
        progress?.setTotal(tree.size)
        return try await UploadQueue.run(to: server) { queue in
            try await storeDirectory(tree.entries, at: root, queue: &queue, progress: progress).address
        }
    }

    private func storeDirectory(
        _ entries: [LocalTree.Entry], at directory: RawPath, queue: inout UploadQueue, progress: ProgressBar?
    ) async throws -> (address: BlockAddress, size: Int64) {
        var stored: [TreeEntry] = []
        for entry in entries {
            let path = directory.appending(entry.name)
            switch entry.node {
            case .file(let executable):
                let (block, size) = try await storeFile(path, queue: &queue, progress: progress)
                stored.append(TreeEntry(name: entry.name, content: .file(block, executable: executable), size: size))
            case .directory(let children):
                let (manifest, size) = try await storeDirectory(children, at: path, queue: &queue, progress: progress)
                stored.append(TreeEntry(name: entry.name, content: .directory(manifest), size: size))
            case .symlink(let target):
                stored.append(TreeEntry(name: entry.name, content: .symlink(target: target), size: Int64(target.count)))
            }
        }
        let manifest = TreeManifest(entries: stored)
        let block = Block(manifest.encoded)
        try await queue.store(block)
        return (block.address, manifest.size)
    }

    /// The size is what was read, which may differ from what the scan saw
    /// if the file changed since.
    private func storeFile(
        _ path: RawPath, queue: inout UploadQueue, progress: ProgressBar?
    ) async throws -> (address: BlockAddress, size: Int64) {
        var reader = try ChunkReader(file: try OpenFile.reading(path), chunker: chunker)
        var chunks: [BlockAddress] = []
        var size: Int64 = 0
        while let chunk = try reader.next() {
            try await queue.store(chunk)
            chunks.append(chunk.address)
            size += Int64(chunk.bytes.readableBytes)
            progress?.advance(by: chunk.bytes.readableBytes)
        }
        let fileBlock = Block(FileBlock.encode(chunks))
        try await queue.store(fileBlock)
        return (fileBlock.address, size)
    }
}
