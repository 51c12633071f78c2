import Testing
import TigAddress
@testable import TigStore

/// `--max-data-size`: least recently used content blocks make room; key
/// slots are never evicted, and a write that would need them gone is
/// refused as out of space (507).
@Suite struct CapacityTests {
    let directory: TemporaryDirectory
    let clock = FakeClock()
    let store: BlockStore

    init() throws {
        directory = try TemporaryDirectory()
        store = try BlockStore(directory: directory.path, retention: .seconds(600), maxDataSize: 10_000, clock: clock, logger: testLogger)
    }

    /// Stores a content block of `size` bytes (seeded) as last used now, then moves the clock on by a sweep step.
    func content(_ seed: Int, size: Int = 2000) throws -> BlockAddress {
        let body = try store.incoming()
        try body.append((0..<size).map { UInt8(truncatingIfNeeded: $0 &+ seed &* 7) })
        let address = try store.storeContent(body)
        directory.setLastUse(of: address, to: clock.now())
        clock.advance(by: .seconds(20))
        return address
    }

    func slot(_ address: BlockAddress, size: Int) throws -> BlockStore.SlotWriteOutcome {
        let body = try store.incoming()
        try body.append([UInt8](repeating: 7, count: size))
        return try store.writeSlot(address, body: body, mode: .replace)
    }

    @Test func theLeastRecentlyUsedContentBlockMakesRoom() throws {
        let blocks = try (0..<5).map { try content($0) }
        #expect(store.statistics.bytes == 10_000)
        // The oldest is read (its timer reset): the second oldest is now the least recently used.
        _ = try store.open(blocks[0], touch: true)
        clock.advance(by: .seconds(20))
        let newcomer = try content(9)
        #expect(!store.holds(blocks[1]))
        #expect([blocks[0], blocks[2], blocks[3], blocks[4], newcomer].allSatisfy(store.holds))
        #expect(store.statistics.bytes == 10_000)
        #expect(store.statistics.evicted == 1)
    }

    @Test func rewritingStoredContentEvictsNothing() throws {
        let blocks = try (0..<5).map { try content($0) }
        #expect(try content(0) == blocks[0])
        #expect(blocks.allSatisfy(store.holds))
        #expect(store.statistics.evicted == 0)
    }

    @Test func keySlotsAreNeverEvictedAndAWriteThatNeedsThatIsRefused() throws {
        let first = BlockAddress.random(), second = BlockAddress.random()
        #expect(try slot(first, size: 5000) == .stored)
        _ = try content(1, size: 1000)
        #expect(try slot(second, size: 4000) == .stored)
        // 10,000 bytes: two slots and one content block. A slot of 2,000 more
        // evicts the content block, then finds only slots.
        #expect(throws: StoreError.self) { try slot(BlockAddress.random(), size: 2000) }
        #expect(store.holds(first) && store.holds(second))
        #expect(store.statistics.bytes == 9000)
        let refused = #expect(throws: StoreError.self) { _ = try content(2, size: 1500) }
        #expect(refused?.isOutOfSpace == true)
        // Replacing a slot with a value of the same size needs no room.
        #expect(try slot(first, size: 5000) == .stored)
        #expect(store.statistics.bytes <= 10_000)
    }

    @Test func aBlockLargerThanTheBoundIsRefusedAndEvictsNothing() throws {
        let kept = try content(1)
        #expect(throws: StoreError.self) { _ = try content(2, size: 10_001) }
        #expect(store.holds(kept))
        #expect(store.statistics.evicted == 0)
    }
}
