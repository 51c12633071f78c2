import NIOConcurrencyHelpers
import TigAddress

/// Small blocks kept in memory, so that reading a hot block costs no
/// file-system call (nginx's `open_file_cache` goes half as far: it keeps
/// the descriptor). Bounded in bytes; the oldest entries go first.
///
/// The store is the only writer of its directory, so the cache can be exact:
/// every mutation of an address drops its entry once the change has landed
/// (still under the address lock), and a read that missed fills the entry
/// only if no mutation of its shard landed since the read began (a
/// generation count per shard, taken before the file is opened). A fill is
/// therefore either refused or dropped by the mutation that made it stale:
/// once a mutation is answered, no read can see the old value.
final class ReadCache: Sendable {
    struct Entry: Sendable {
        let bytes: [UInt8]
        let kind: BlockKind
        /// The modification time the cache believes the file has; a touch
        /// that finds it old enough updates both.
        var lastUse: WallTime
    }

    private struct Shard {
        var entries: [BlockAddress: Entry] = [:]
        /// Insertion order, for eviction; may hold addresses no longer cached.
        var order: [BlockAddress] = []
        var orderStart = 0
        var bytes = 0
        var generation: UInt64 = 0
    }

    /// Blocks up to this size are cached.
    static let entryLimit = 64 * 1024

    private let shards: [NIOLockedValueBox<Shard>]
    private let shardCapacity: Int

    /// - Parameter capacity: bytes of block data to keep; 0 turns the cache off.
    init(capacity: Int, shards count: Int = 16) {
        self.shards = (0..<count).map { _ in NIOLockedValueBox(Shard()) }
        self.shardCapacity = capacity / count
    }

    var isEnabled: Bool { shardCapacity > 0 }

    private func shard(_ address: BlockAddress) -> NIOLockedValueBox<Shard> {
        shards[Int(truncatingIfNeeded: address.words.2 % UInt64(shards.count))]
    }

    func entry(_ address: BlockAddress) -> Entry? {
        guard isEnabled else { return nil }
        return shard(address).withLockedValue { $0.entries[address] }
    }

    /// Records that the file's timer was reset.
    func touched(_ address: BlockAddress, at time: WallTime) {
        shard(address).withLockedValue { $0.entries[address]?.lastUse = time }
    }

    /// The shard's mutation count, to pass to `fill` after reading.
    func generation(_ address: BlockAddress) -> UInt64 {
        shard(address).withLockedValue { $0.generation }
    }

    /// Caches what a read found, unless the address changed since
    /// `generation` was taken or the block is too large to cache.
    func fill(_ address: BlockAddress, _ entry: Entry, ifUnchangedSince generation: UInt64) {
        guard isEnabled, entry.bytes.count <= Self.entryLimit else { return }
        let capacity = shardCapacity
        shard(address).withLockedValue { shard in
            guard shard.generation == generation, shard.entries[address] == nil else { return }
            shard.entries[address] = entry
            shard.order.append(address)
            shard.bytes += entry.bytes.count
            while shard.bytes > capacity, shard.orderStart < shard.order.count {
                let oldest = shard.order[shard.orderStart]
                shard.orderStart += 1
                if let evicted = shard.entries.removeValue(forKey: oldest) {
                    shard.bytes -= evicted.bytes.count
                }
            }
            // Compact the order list once most of it has been consumed.
            if shard.orderStart > 1024 && shard.orderStart * 2 > shard.order.count {
                shard.order.removeFirst(shard.orderStart)
                shard.orderStart = 0
            }
        }
    }

    /// Drops the address: called after every mutation, under its address lock.
    func invalidate(_ address: BlockAddress) {
        guard isEnabled else { return }
        shard(address).withLockedValue { shard in
            shard.generation &+= 1
            if let dropped = shard.entries.removeValue(forKey: address) {
                shard.bytes -= dropped.bytes.count
            }
        }
    }
}
