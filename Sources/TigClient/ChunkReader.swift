import NIOCore

/// Cuts a file into content-defined chunks while reading it. Memory stays
/// at most twice the largest chunk, whatever the file's size: the buffer is
/// refilled only when less than one largest chunk is left in it. A small
/// file gets a buffer of its own size, grown only if the file turns out
/// longer.
struct ChunkReader {
    private let file: OpenFile
    private let chunker: Chunker
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var reachedEnd = false

    init(file: OpenFile, chunker: Chunker) throws {
        self.file = file
        self.chunker = chunker
        // One byte more than the file, so its end shows in the first read.
        let expected = Int(clamping: try file.size()) + 1
        self.buffer = [UInt8](repeating: 0, count: min(expected, 2 * chunker.parameters.maximumSize))
    }

    /// The next chunk, nil after the last. An empty file has no chunks.
    mutating func next() throws -> Block? {
        if end - start < chunker.parameters.maximumSize, !reachedEnd {
            try refill()
        }
        guard end > start else { return nil }
        let chunk = buffer.withUnsafeBytes { all in
            let pending = UnsafeRawBufferPointer(rebasing: all[start..<end])
            let length = chunker.cut(pending)
            return ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: pending.prefix(length)))
        }
        start += chunk.readableBytes
        return Block(chunk)
    }

    /// Moves the unread bytes to the front and reads until the buffer is
    /// full (at its largest size) or the file ends.
    private mutating func refill() throws {
        let pending = end - start
        buffer.withUnsafeMutableBytes { all in
            guard let base = all.baseAddress, start > 0 else { return }
            base.copyMemory(from: base + start, byteCount: pending)
        }
        start = 0
        end = pending
        while true {
            end += try buffer.withUnsafeMutableBytes { all in
                try file.readFully(into: UnsafeMutableRawBufferPointer(rebasing: all[end...]))
            }
            if end < buffer.count {
                reachedEnd = true
                return
            }
            let largest = 2 * chunker.parameters.maximumSize
            if buffer.count >= largest { return }
            buffer += repeatElement(0, count: largest - buffer.count)
        }
    }
}
