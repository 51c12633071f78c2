import Foundation
import Testing
import TigAddress
@testable import TigStore

@Suite struct BlockStoreTests {
    let directory: TemporaryDirectory
    let clock = FakeClock()
    let store: BlockStore

    init() throws {
        directory = try TemporaryDirectory()
        store = try BlockStore(directory: directory, clock: clock)
    }

    @Test func contentIsStoredAtItsHashAsAReadOnlyFile() throws {
        let address = try store.storeContent(store.body("123\n"))
        #expect(address == sha256("123\n"))
        #expect(try directory.files() == [address.fileName])
        #expect(try directory.contents(of: address) == Array("123\n".utf8))
        #expect(try directory.mode(of: address) == 0o444)
        #expect(store.statistics.blocks == 1)
        #expect(store.statistics.bytes == 4)
    }

    @Test func storingTheSameBytesAgainStoresNothingNewButResetsTheTimer() throws {
        let address = try store.storeContent(store.body("same"))
        directory.setLastUse(of: address, to: clock.now() - 500_000_000_000)
        clock.advance(by: .seconds(1))
        try store.storeContent(store.body("same"))
        #expect(try directory.files() == [address.fileName])
        #expect(store.statistics.blocks == 1)
        #expect(try store.list().first?.lastUse ?? 0 > clock.now() - 500_000_000_000)
    }

    @Test func aBodyHashedElsewhereIsStoredAtTheDigestItIsSealedWith() throws {
        let body = try store.incoming(limit: 1 << 20, hashing: .external)
        try body.append(Array("hashed on another core".utf8))
        body.seal(sha256("hashed on another core"))
        #expect(try store.storeContent(body) == sha256("hashed on another core"))
        #expect(try store.read(sha256("hashed on another core")) == "hashed on another core")
    }

    @Test func aBodyThatIsNeverStoredLeavesNothingBehind() throws {
        do {
            let body = try store.incoming(limit: 10)
            try body.append(Array("0123456789".utf8))
            #expect(throws: IncomingBlock.Failure.tooLarge) { try body.append([1]) }
        }
        #expect(try directory.files().isEmpty)
    }

    @Test func keySlotsAreReplacedAtomicallyAndKeepTheirAddress() throws {
        let slot = BlockAddress.random()
        #expect(try store.writeSlot(slot, body: store.body("one"), mode: .replace) == .stored)
        #expect(try store.writeSlot(slot, body: store.body("two"), mode: .replace) == .stored)
        #expect(try store.read(slot) == "two")
        #expect(try directory.files() == [slot.fileName], "the temporary name is gone after the rename")
        #expect(try directory.mode(of: slot) == 0o644)
        #expect(store.statistics.bytes == 3)
    }

    @Test func setIfNotCreatesOnlyWhenAbsent() throws {
        let slot = BlockAddress.random()
        #expect(try store.writeSlot(slot, body: store.body("first"), mode: .createOnly) == .stored)
        #expect(try store.writeSlot(slot, body: store.body("second"), mode: .createOnly) == .refusedExists)
        #expect(try store.read(slot) == "first")
    }

    @Test func appendAddsToTheSlotAndCreatesItWhenAbsent() throws {
        let slot = BlockAddress.random()
        #expect(try store.writeSlot(slot, body: store.body("a"), mode: .append) == .stored)
        #expect(try store.writeSlot(slot, body: store.body("b"), mode: .append) == .stored)
        #expect(try store.read(slot) == "ab")
        #expect(store.statistics.bytes == 2)
    }

    @Test func contentBlocksRefuseKeyWritesAndDeletes() throws {
        let address = try store.storeContent(store.body("immutable"))
        for mode in [BlockStore.SlotWriteMode.replace, .createOnly, .append] {
            #expect(try store.writeSlot(address, body: store.body("changed"), mode: mode) == .refusedContent)
        }
        #expect(try store.deleteSlot(address) == .refused)
        #expect(try store.read(address) == "immutable")
    }

    @Test func aContentAddressReplacesASquattingSlot() throws {
        let address = sha256("the real bytes")
        #expect(try store.writeSlot(address, body: store.body("squatter"), mode: .replace) == .stored)
        #expect(try store.storeContent(store.body("the real bytes")) == address)
        #expect(try store.read(address) == "the real bytes")
        #expect(try directory.mode(of: address) == 0o444)
        #expect(try directory.files() == [address.fileName])
    }

    @Test func aSlotWriteWhoseBodyHashesToTheAddressStoresContent() throws {
        let address = sha256("self")
        #expect(try store.writeSlot(address, body: store.body("self"), mode: .replace) == .stored)
        #expect(try directory.mode(of: address) == 0o444)
        #expect(try store.writeSlot(address, body: store.body("other"), mode: .replace) == .refusedContent)
    }

    @Test func channelMarkersAreRecognisedAndProtected() throws {
        let target = BlockAddress.random()
        let writeOnly = BlockAddress.random()
        let marker = ChannelMarker.writeOnly(target: target)
        #expect(try store.writeSlot(writeOnly, body: store.body(marker.value), mode: .replace) == .stored)
        guard case .channel(let found) = try store.open(writeOnly, touch: false) else {
            Issue.record("a write-only marker reads as a channel")
            return
        }
        #expect(found == marker)
        #expect(try store.presence(of: writeOnly) == .channel(marker))
        #expect(try store.writeSlot(writeOnly, body: store.body("overwrite"), mode: .replace) == .refusedChannel)
        #expect(try store.deleteSlot(writeOnly) == .refused)

        let readOnly = try store.storeContent(store.body(ChannelMarker.readOnly(target: target).value))
        #expect(try store.presence(of: readOnly) == .channel(.readOnly(target: target)))
    }

    @Test func aContentBlockHoldingTheWriteOnlyTextIsPlainContent() throws {
        let text = ChannelMarker.writeOnly(target: BlockAddress.random()).value
        let address = try store.storeContent(store.body(text))
        #expect(try store.presence(of: address) == .block(kind: .content, size: text.utf8.count))
    }

    @Test func takeReturnsTheValueOnceAndDeletesIt() throws {
        let slot = BlockAddress.random()
        _ = try store.writeSlot(slot, body: store.body("queue item"), mode: .replace)
        guard case .taken(let file) = try store.take(slot, touch: true) else {
            Issue.record("take finds the slot")
            return
        }
        #expect(String(decoding: try file.readAll(), as: UTF8.self) == "queue item", "the open file outlives the name")
        file.close()
        guard case .absent = try store.take(slot, touch: true) else {
            Issue.record("a second take finds nothing")
            return
        }
        #expect(try directory.files().isEmpty)
        #expect(store.statistics.blocks == 0)
    }

    @Test func takeOnlyReadsContentBlocks() throws {
        let address = try store.storeContent(store.body("stays"))
        guard case .taken(let file) = try store.take(address, touch: true) else {
            Issue.record("take reads a content block")
            return
        }
        file.close()
        #expect(try store.read(address) == "stays")
    }

    @Test func deleteRemovesSlotsOnly() throws {
        let slot = BlockAddress.random()
        _ = try store.writeSlot(slot, body: store.body("x"), mode: .replace)
        #expect(try store.deleteSlot(slot) == .deleted)
        #expect(try store.deleteSlot(slot) == .absent)
        #expect(try directory.files().isEmpty)
    }

    @Test func listingIsNewestFirst() throws {
        let older = try store.storeContent(store.body("older"))
        let newer = try store.storeContent(store.body("newer"))
        directory.setLastUse(of: older, to: clock.now() - 2_000_000_000)
        directory.setLastUse(of: newer, to: clock.now() - 1_000_000_000)
        #expect(try store.list().map(\.address) == [newer, older])
    }

    @Test func foreignFilesAreNeitherListedNorTouched() throws {
        _ = FileManager.default.createFile(atPath: directory.path + "/apikey", contents: Data("secret".utf8))
        _ = FileManager.default.createFile(atPath: directory.path + "/notes.txt", contents: Data())
        let address = try store.storeContent(store.body("mine"))
        #expect(try store.list().map(\.address) == [address])
        clock.advance(by: .seconds(10_000))
        store.sweep(now: clock.now())
        #expect(try directory.files() == ["apikey", "notes.txt"])
    }
}

@Suite struct RetentionSweepTests {
    let directory: TemporaryDirectory
    let clock = FakeClock()
    let store: BlockStore

    init() throws {
        directory = try TemporaryDirectory()
        store = try BlockStore(directory: directory, retention: .seconds(10), clock: clock)
    }

    @Test func idleBlocksAreDeletedAfterTheRetentionPeriod() throws {
        let address = try store.storeContent(store.body("idle"))
        directory.setLastUse(of: address, to: clock.now())
        clock.advance(by: .seconds(9))
        #expect(store.sweep(now: clock.now()) == 0)
        #expect(try directory.files() == [address.fileName])
        clock.advance(by: .seconds(2))
        #expect(store.sweep(now: clock.now()) == 1)
        #expect(try directory.files().isEmpty)
        #expect(store.statistics.swept == 1)
        #expect(store.statistics.blocks == 0)
    }

    @Test func usedBlocksAreKeptAndRefiled() throws {
        let address = try store.storeContent(store.body("busy"))
        directory.setLastUse(of: address, to: clock.now())
        clock.advance(by: .seconds(8))
        directory.setLastUse(of: address, to: clock.now())  // a read
        clock.advance(by: .seconds(5))
        #expect(store.sweep(now: clock.now()) == 0)
        #expect(store.scheduledCount == 1)
        clock.advance(by: .seconds(6))
        #expect(store.sweep(now: clock.now()) == 1)
    }

    @Test func aReadResetsTheTimer() throws {
        let address = try store.storeContent(store.body("read me"))
        directory.setLastUse(of: address, to: clock.now() - 5_000_000_000)
        guard case .block(let file) = try store.open(address, touch: true) else {
            Issue.record("block found")
            return
        }
        file.close()
        let lastUse = try #require(try store.list().first?.lastUse)
        #expect(lastUse > clock.now() - 5_000_000_000)
    }

    @Test func aRestartGivesEveryBlockAFullPeriodFromTheStart() throws {
        let address = try store.storeContent(store.body("survivor"))
        directory.setLastUse(of: address, to: clock.now() - 3_600_000_000_000)
        let restarted = try BlockStore(directory: directory, retention: .seconds(10), clock: clock)
        #expect(restarted.statistics.blocks == 1)
        clock.advance(by: .seconds(9))
        #expect(restarted.sweep(now: clock.now()) == 0)
        clock.advance(by: .seconds(2))
        #expect(restarted.sweep(now: clock.now()) == 1)
    }

    @Test func deletedBlocksLeaveTheScheduleWhenTheyComeDue() throws {
        let slot = BlockAddress.random()
        _ = try store.writeSlot(slot, body: store.body("gone"), mode: .replace)
        _ = try store.deleteSlot(slot)
        clock.advance(by: .seconds(11))
        #expect(store.sweep(now: clock.now()) == 0)
        #expect(store.scheduledCount == 0)
    }
}

@Suite struct ReadCacheTests {
    let directory: TemporaryDirectory
    let clock = FakeClock()
    let store: BlockStore

    init() throws {
        directory = try TemporaryDirectory()
        store = try BlockStore(directory: directory.path, retention: .seconds(10), cacheSize: 1 << 20, clock: clock, logger: testLogger)
    }

    /// Reads once so the slot is cached, then checks that what `change` did
    /// is what the next read sees.
    func afterCaching(_ slot: BlockAddress, _ change: () throws -> Void) throws -> String? {
        #expect(try store.read(slot) != nil)
        try change()
        return try store.read(slot)
    }

    @Test func everyMutationIsSeenByTheNextRead() throws {
        let slot = BlockAddress.random()
        _ = try store.writeSlot(slot, body: store.body("one"), mode: .replace)
        #expect(try afterCaching(slot) { _ = try store.writeSlot(slot, body: store.body("two"), mode: .replace) } == "two")
        #expect(try afterCaching(slot) { _ = try store.writeSlot(slot, body: store.body("+"), mode: .append) } == "two+")
        #expect(try afterCaching(slot) { _ = try store.take(slot, touch: false) } == nil)
        _ = try store.writeSlot(slot, body: store.body("three"), mode: .replace)
        #expect(try afterCaching(slot) { _ = try store.deleteSlot(slot) } == nil)
        _ = try store.writeSlot(slot, body: store.body("four"), mode: .replace)
        let handedOver = try #require(try store.openStored(slot))
        defer { handedOver.close() }
        #expect(try afterCaching(slot) { _ = try store.evict(slot, ifStill: handedOver) } == nil)
        _ = try store.writeSlot(slot, body: store.body("five"), mode: .replace)
        #expect(try afterCaching(slot) {
            directory.setLastUse(of: slot, to: clock.now() - 20_000_000_000)
            store.sweep(now: clock.now() + 20_000_000_000)
        } == nil)
    }

    @Test func evictionKeepsASlotWrittenSinceItWasHandedOver() throws {
        let slot = BlockAddress.random()
        _ = try store.writeSlot(slot, body: store.body("handed over"), mode: .replace)
        let replacedSince = try #require(try store.openStored(slot))
        defer { replacedSince.close() }
        _ = try store.writeSlot(slot, body: store.body("newer"), mode: .replace)
        #expect(try store.evict(slot, ifStill: replacedSince) == .replacedSince)
        #expect(try store.read(slot) == "newer")

        let appendedSince = try #require(try store.openStored(slot))
        defer { appendedSince.close() }
        _ = try store.writeSlot(slot, body: store.body(" and more"), mode: .append)
        #expect(try store.evict(slot, ifStill: appendedSince) == .appendedSince)
        #expect(try store.read(slot) == "newer and more")

        let unchanged = try #require(try store.openStored(slot))
        defer { unchanged.close() }
        #expect(try store.evict(slot, ifStill: unchanged) == .evicted)
        #expect(try store.read(slot) == nil)
        // Gone already (taken, deleted, swept): nothing left to keep.
        #expect(try store.evict(slot, ifStill: unchanged) == .evicted)
    }

    @Test func aReadOfACachedBlockStillResetsItsTimer() throws {
        let address = try store.storeContent(store.body("hot"))
        _ = try store.read(address)
        directory.setLastUse(of: address, to: clock.now() - 5_000_000_000)
        // The cache believes the block was used at its store time; age that too.
        clock.advance(by: .seconds(5))
        guard case .block = try store.open(address, touch: true) else {
            Issue.record("cached block found")
            return
        }
        let lastUse = try #require(try store.list().first?.lastUse)
        #expect(lastUse == clock.now())
    }

    @Test func aFillThatRacedAMutationIsDropped() {
        let cache = ReadCache(capacity: 1 << 20)
        let address = BlockAddress.random()
        let generation = cache.generation(address)
        cache.invalidate(address)  // a writer replaced the block while the read was under way
        cache.fill(address, .init(bytes: [1], kind: .slot, lastUse: 0), ifUnchangedSince: generation)
        #expect(cache.entry(address) == nil)
        cache.fill(address, .init(bytes: [2], kind: .slot, lastUse: 0), ifUnchangedSince: cache.generation(address))
        #expect(cache.entry(address)?.bytes == [2])
    }

    @Test func theCacheStaysWithinItsCapacity() {
        let cache = ReadCache(capacity: 16 * 1000, shards: 1)
        let addresses = (0..<100).map { _ in BlockAddress.random() }
        for address in addresses {
            cache.fill(address, .init(bytes: [UInt8](repeating: 7, count: 1000), kind: .content, lastUse: 0), ifUnchangedSince: cache.generation(address))
        }
        let cached = addresses.filter { cache.entry($0) != nil }
        #expect(cached == Array(addresses.suffix(16)), "the oldest go first")
    }
}
