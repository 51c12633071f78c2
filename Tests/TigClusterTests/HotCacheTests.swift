import Testing
import TigAddress
@testable import TigCluster

@Suite struct HotCacheTests {
    /// A block of `size` bytes and its content address.
    func block(_ size: Int, seed: UInt8) -> (BlockAddress, [UInt8]) {
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) ^ seed }
        return (SHA256Hasher.address(of: bytes), bytes)
    }

    @Test func keepsOnlyBytesThatHashToTheirAddress() {
        let cache = HotCache(capacity: 1 << 20, maxAge: .seconds(60), shards: 1)
        let (address, bytes) = block(1000, seed: 1)
        #expect(!cache.offer(address, bytes: Array(bytes.dropLast())), "a peer's wrong bytes")
        #expect(!cache.offer(BlockAddress.random(), bytes: bytes), "a key slot's value")
        #expect(cache.block(address) == nil)
        #expect(cache.offer(address, bytes: bytes))
        #expect(cache.block(address) == bytes)
        #expect(cache.bytes == 1000)
    }

    @Test func theLeastRecentlyReadGoesFirst() {
        let cache = HotCache(capacity: 3000, maxAge: .seconds(60), shards: 1)
        let blocks = (0..<3).map { block(1000, seed: UInt8($0)) }
        for (address, bytes) in blocks { #expect(cache.offer(address, bytes: bytes)) }
        // Read the oldest, so the second is now the least recently read.
        #expect(cache.block(blocks[0].0) != nil)
        let (newcomer, bytes) = block(1000, seed: 9)
        #expect(cache.offer(newcomer, bytes: bytes))
        #expect(cache.block(blocks[1].0) == nil)
        #expect(cache.block(blocks[0].0) != nil && cache.block(blocks[2].0) != nil && cache.block(newcomer) != nil)
        #expect(cache.bytes == 3000)
    }

    @Test func manyHitsKeepTheBookkeepingBounded() {
        let cache = HotCache(capacity: 2000, maxAge: .seconds(60), shards: 1)
        let (address, bytes) = block(1000, seed: 3)
        #expect(cache.offer(address, bytes: bytes))
        for _ in 0..<100_000 { _ = cache.block(address) }
        let (other, otherBytes) = block(1000, seed: 4)
        let (third, thirdBytes) = block(1000, seed: 5)
        #expect(cache.offer(other, bytes: otherBytes))
        #expect(cache.offer(third, bytes: thirdBytes))
        // The block read 100,000 times was read before the other two were filled.
        #expect(cache.block(address) == nil)
        #expect(cache.bytes == 2000)
    }

    @Test func entriesAgeOut() {
        let cache = HotCache(capacity: 1 << 20, maxAge: .seconds(10), shards: 1)
        let (address, bytes) = block(100, seed: 6)
        let start = ContinuousClock.now
        #expect(cache.offer(address, bytes: bytes, now: start))
        #expect(cache.block(address, now: start + .seconds(9)) == bytes)
        #expect(cache.block(address, now: start + .seconds(10)) == nil)
        #expect(cache.bytes == 0)
    }

    @Test func largeBlocksAndAZeroCapacityAreNotKept() {
        let cache = HotCache(capacity: 64 << 20, maxAge: .seconds(60))
        let (large, bytes) = block(HotCache.largestEntry + 1, seed: 7)
        #expect(!cache.offer(large, bytes: bytes))
        let off = HotCache(capacity: 0, maxAge: .seconds(60))
        let (small, smallBytes) = block(10, seed: 8)
        #expect(!off.isEnabled)
        #expect(!off.offer(small, bytes: smallBytes))
    }
}
