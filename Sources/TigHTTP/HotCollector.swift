import NIOCore
import NIOHTTP1
import TigAddress

/// Where a relayed block may be kept once it has been sent on.
struct HotFill {
    let address: BlockAddress
    let cache: any HotBlocks
}

/// Collects a relayed answer for the hot cache. Only a whole content block
/// small enough to keep is collected: the home answers it as immutable
/// (never a key slot), and the offer checks that the bytes hash to the
/// address.
struct HotCollector {
    private let fill: HotFill
    private var bytes: [UInt8] = []
    private var collecting = true

    init(_ fill: HotFill) {
        self.fill = fill
    }

    mutating func begin(_ head: HTTPResponseHead) {
        let length = head.headers.first(name: "content-length").flatMap(Int.init)
        let immutable = head.headers.first(name: "cache-control")?.contains("immutable") == true
        if head.status == .ok, immutable, head.headers["content-range"].isEmpty, let length, length <= fill.cache.entryLimit {
            bytes.reserveCapacity(length)
        } else {
            stop()
        }
    }

    mutating func add(_ buffer: ByteBuffer) {
        guard collecting else { return }
        bytes.append(contentsOf: buffer.readableBytesView)
        if bytes.count > fill.cache.entryLimit { stop() }
    }

    /// Offers what was collected; called after the answer went out, since
    /// the offer hashes the bytes.
    mutating func finish(metrics: ServerMetrics) {
        if collecting, fill.cache.offer(fill.address, bytes: bytes, now: .now) {
            metrics.hotCacheFills.increment()
        }
        stop()
    }

    private mutating func stop() {
        collecting = false
        bytes = []
    }
}
