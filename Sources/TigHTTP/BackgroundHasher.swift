import Dispatch
import NIOConcurrencyHelpers
import NIOCore
import Synchronization
import TigAddress

/// Hashes a large request body on another core while the event loop writes
/// it to the store: SHA-256 and the copy into the file each take about half
/// the time of receiving a block, so doing them side by side nearly doubles
/// the rate a single large upload is stored at.
///
/// Buffers are hashed in the order they are given. Unchecked Sendable: the
/// hasher is only touched on `queue`, which is serial; the count is atomic.
final class BackgroundHasher: @unchecked Sendable {
    private let queue = DispatchQueue(label: "tig.body-hash")
    private let hasher = SHA256Hasher()
    private let queued = Atomic<Int>(0)
    /// Set while reading is paused: what resumes it, once half caught up.
    private let resume = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)

    /// Above this many bytes waiting, the connection stops reading until the
    /// hasher has caught up: memory stays bounded however fast the client.
    static let readPauseThreshold = 8 << 20

    /// Bodies at least this large are hashed in the background.
    static let minimumBodySize = 1 << 20

    /// Hashes `buffer` after everything given before; returns how many bytes
    /// now wait to be hashed.
    func hash(_ buffer: ByteBuffer) -> Int {
        let count = buffer.readableBytes
        queue.async { [self] in
            buffer.withUnsafeReadableBytes { hasher.update($0) }
            let waiting = queued.subtract(count, ordering: .relaxed).newValue
            // Resume before the queue runs dry, so the hasher never idles.
            if waiting <= Self.readPauseThreshold / 2, let resumeReading = resume.withLockedValue({ $0.take() }) {
                resumeReading()
            }
        }
        return queued.add(count, ordering: .relaxed).newValue
    }

    /// Runs `action` on `eventLoop` once the bytes waiting are down to half
    /// the pause threshold.
    func whenHalfCaughtUp(on eventLoop: any EventLoop, _ action: @escaping @Sendable () -> Void) {
        resume.withLockedValue { $0 = { eventLoop.execute(action) } }
        // It may have caught up already.
        queue.async { [self] in
            if queued.load(ordering: .relaxed) <= Self.readPauseThreshold / 2, let resumeReading = resume.withLockedValue({ $0.take() }) {
                resumeReading()
            }
        }
    }

    /// The digest of every buffer given; give nothing after this.
    func finish(on eventLoop: any EventLoop) -> EventLoopFuture<BlockAddress> {
        let digest = eventLoop.makePromise(of: BlockAddress.self)
        queue.async { [self] in digest.succeed(hasher.finish()) }
        return digest.futureResult
    }
}
