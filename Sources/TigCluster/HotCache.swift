import NIOConcurrencyHelpers
import TigAddress
import TigHTTP

/// Content blocks this pod relayed from their homes, kept in memory so that
/// the next read of a popular block costs no hop (groupcache's hot cache).
/// Bounded in bytes; the least recently read entry goes first.
///
/// Only content blocks: an entry is kept only if its bytes hash to its
/// address, so a key slot (whose bytes change) or a peer's wrong bytes can
/// never be cached. An entry also ages out after `maxAge`, a fraction of the
/// retention: it is filled only by a read that reset the block's timer at
/// its home, so while an entry lives the home still holds the block, and a
/// block read only through hot caches still reaches its home often enough
/// (once per `maxAge`) not to expire there.
public final class HotCache: HotBlocks {
    private struct Entry {
        let bytes: [UInt8]
        let filled: ContinuousClock.Instant
        /// The entry's latest position in `order`.
        var stamp: UInt64
    }

    private struct Shard {
        var entries: [BlockAddress: Entry] = [:]
        /// Reads and fills in order, oldest first; an address appears again
        /// on every hit, so only the pair whose stamp matches counts.
        var order: [(address: BlockAddress, stamp: UInt64)] = []
        var orderStart = 0
        var nextStamp: UInt64 = 0
        var bytes = 0

        /// Records a read or fill of `address`; returns its stamp, which the
        /// caller stores in the entry before compacting.
        mutating func append(_ address: BlockAddress) -> UInt64 {
            nextStamp += 1
            order.append((address, nextStamp))
            return nextStamp
        }

        mutating func evict(downTo capacity: Int) {
            while bytes > capacity, orderStart < order.count {
                let (oldest, stamp) = order[orderStart]
                orderStart += 1
                if let entry = entries[oldest], entry.stamp == stamp {
                    bytes -= entry.bytes.count
                    entries[oldest] = nil
                }
            }
            compactIfSparse()
        }

        /// Hits append without removing: drop the pairs no entry points at once
        /// they outnumber the live ones, so `order` stays O(entries) in size and
        /// each operation O(1) amortized.
        mutating func compactIfSparse() {
            guard order.count - orderStart > 2 * entries.count + 64 else { return }
            order = order[orderStart...].filter { entries[$0.address]?.stamp == $0.stamp }
            orderStart = 0
        }
    }

    /// Larger blocks are not cached: each fill hashes the block on an event
    /// loop (256 KiB: about 150 µs).
    public static let largestEntry = 256 * 1024

    public var entryLimit: Int { min(Self.largestEntry, shardCapacity) }

    private let shards: [NIOLockedValueBox<Shard>]
    private let shardCapacity: Int
    private let maxAge: Duration

    /// - Parameter capacity: bytes of block data to keep; 0 turns the cache off.
    public init(capacity: Int, maxAge: Duration, shards count: Int = 8) {
        self.shards = (0..<count).map { _ in NIOLockedValueBox(Shard()) }
        self.shardCapacity = capacity / count
        self.maxAge = maxAge
    }

    public var isEnabled: Bool { shardCapacity > 0 }

    /// Bytes of block data held.
    public var bytes: Int {
        shards.reduce(0) { total, shard in total + shard.withLockedValue { $0.bytes } }
    }

    private func shard(_ address: BlockAddress) -> NIOLockedValueBox<Shard> {
        shards[Int(truncatingIfNeeded: address.words.1 % UInt64(shards.count))]
    }

    /// The block's bytes, if cached and not too old; a hit makes it the most
    /// recently read.
    public func block(_ address: BlockAddress, now: ContinuousClock.Instant = .now) -> [UInt8]? {
        guard isEnabled else { return nil }
        let maxAge = maxAge
        return shard(address).withLockedValue { shard in
            guard let entry = shard.entries[address] else { return nil }
            guard now - entry.filled < maxAge else {
                shard.bytes -= entry.bytes.count
                shard.entries[address] = nil
                return nil
            }
            let stamp = shard.append(address)
            shard.entries[address]?.stamp = stamp
            shard.compactIfSparse()
            return entry.bytes
        }
    }

    /// Keeps `bytes`, a relayed answer for `address`, if they are its
    /// content (they hash to it) and small enough; evicts the least recently
    /// read entries to make room. Returns whether it was kept.
    @discardableResult
    public func offer(_ address: BlockAddress, bytes: [UInt8], now: ContinuousClock.Instant = .now) -> Bool {
        guard isEnabled, bytes.count <= entryLimit,
              SHA256Hasher.address(of: bytes) == address
        else { return false }
        let capacity = shardCapacity
        shard(address).withLockedValue { shard in
            if let old = shard.entries[address] { shard.bytes -= old.bytes.count }
            let stamp = shard.append(address)
            shard.entries[address] = Entry(bytes: bytes, filled: now, stamp: stamp)
            shard.bytes += bytes.count
            shard.evict(downTo: capacity)
        }
        return true
    }
}
