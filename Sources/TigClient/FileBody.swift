import NIOCore

/// A file's bytes as a request body, read in 1 MiB pieces as the upload
/// asks for them, so memory does not grow with the file.
struct FileBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let file: OpenFile
    let progress: ProgressBar?

    struct AsyncIterator: AsyncIteratorProtocol {
        let file: OpenFile
        let progress: ProgressBar?

        mutating func next() async throws -> ByteBuffer? {
            guard let piece = try file.read(upTo: 1 << 20) else { return nil }
            progress?.advance(by: piece.readableBytes)
            return piece
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(file: file, progress: progress)
    }
}
