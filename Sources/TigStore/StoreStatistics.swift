import Synchronization

/// Live counts of what the data directory holds, kept exact by the store's
/// mutations (which run under the address lock) and read by `/metrics`.
public final class StoreStatistics: Sendable {
    private let blockCount = Atomic<Int>(0)
    private let byteCount = Atomic<Int>(0)
    private let sweptCount = Atomic<Int>(0)
    private let evictedCount = Atomic<Int>(0)

    public init() {}

    public var blocks: Int { blockCount.load(ordering: .relaxed) }
    public var bytes: Int { byteCount.load(ordering: .relaxed) }
    /// Blocks deleted by retention since start.
    public var swept: Int { sweptCount.load(ordering: .relaxed) }
    /// Content blocks deleted to stay within `--max-data-size` since start.
    public var evicted: Int { evictedCount.load(ordering: .relaxed) }

    func added(bytes: Int) {
        blockCount.add(1, ordering: .relaxed)
        byteCount.add(bytes, ordering: .relaxed)
    }

    func removed(bytes: Int) {
        blockCount.subtract(1, ordering: .relaxed)
        byteCount.subtract(bytes, ordering: .relaxed)
    }

    func resized(by delta: Int) {
        byteCount.add(delta, ordering: .relaxed)
    }

    func sweptOne() {
        sweptCount.add(1, ordering: .relaxed)
    }

    func evictedOne() {
        evictedCount.add(1, ordering: .relaxed)
    }
}
