import NIOCore
import TigAddress

/// One file of a stored tree, as pull and verify need it.
struct StoredFile: Sendable {
    /// Relative to the tree's root.
    let path: RawPath
    let size: Int64
    let executable: Bool
    let chunks: [BlockAddress]
}

/// The bytes of a list of files: chunks fetched in parallel, each verified
/// against its address, delivered in file order, with each file's length
/// checked against the size its manifest records.
enum ContentStream {
    enum Event {
        case begin(StoredFile)
        case bytes(ByteBuffer)
        case end(StoredFile)
    }

    private struct Job: Sendable {
        let file: Int
        let chunk: Int
        /// Nil for an empty file, which has no chunk to fetch.
        let address: BlockAddress?
    }

    static func deliver(
        _ files: [StoredFile], from server: BlockServer, progress: ProgressBar?, to sink: (Event) throws -> Void
    ) async throws {
        let jobs = files.indices.lazy.flatMap { file in
            files[file].chunks.isEmpty
                ? [Job(file: file, chunk: 0, address: nil)]
                : files[file].chunks.indices.map { Job(file: file, chunk: $0, address: files[file].chunks[$0]) }
        }
        var written: Int64 = 0
        try await Pipeline.run(jobs) { job in
            guard let address = job.address else { return ByteBuffer() }
            return try await server.get(address)
        } consume: { job, bytes in
            let file = files[job.file]
            if job.chunk == 0 {
                written = 0
                try sink(.begin(file))
            }
            written += Int64(bytes.readableBytes)
            if bytes.readableBytes > 0 { try sink(.bytes(bytes)) }
            progress?.advance(by: bytes.readableBytes)
            if job.chunk == max(0, file.chunks.count - 1) {
                guard written == file.size else {
                    throw TigClientError.inconsistent("\(file.path) has \(written) bytes, its manifest says \(file.size)")
                }
                try sink(.end(file))
            }
        }
    }
}
