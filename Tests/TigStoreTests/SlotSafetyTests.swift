import Foundation
import Glibc
import Synchronization
import Testing
import TigAddress
@testable import TigStore

/// Crashes, limits, hostile files and concurrent readers: what a key slot
/// must survive.
@Suite struct SlotSafetyTests {
    let directory: TemporaryDirectory
    let clock = FakeClock()

    init() throws {
        directory = try TemporaryDirectory()
    }

    func openStore(maxBlockSize: Int = 1 << 20) throws -> BlockStore {
        try BlockStore(directory: directory.path, retention: .seconds(600), maxBlockSize: maxBlockSize, clock: clock, logger: testLogger)
    }

    /// A crash in the middle of an append leaves its journal record and part
    /// of the bytes; the next start cuts the slot back to its old value.
    @Test func aRestartRollsBackAnAppendACrashInterrupted() throws {
        let slot = BlockAddress.random()
        do {
            let store = try openStore()
            _ = try store.writeSlot(slot, body: store.body("before"), mode: .replace)
            // What the append does up to the crash: the record, then some bytes.
            _ = try AppendJournal.begin(slot: slot, length: 6, in: store)
            let handle = try #require(FileHandle(forWritingAtPath: directory.path + "/" + slot.fileName))
            handle.seekToEndOfFile()
            handle.write(Data(" and half of an app".utf8))
            handle.closeFile()
            #expect(try directory.files().count == 2)
        }
        let restarted = try openStore()
        #expect(try restarted.read(slot) == "before")
        #expect(try directory.files() == [slot.fileName], "the record is gone")
        #expect(restarted.statistics.bytes == 6)
    }

    @Test func aCompletedAppendLeavesNoRecordAndIsKeptAcrossARestart() throws {
        let slot = BlockAddress.random()
        do {
            let store = try openStore()
            _ = try store.writeSlot(slot, body: store.body("one"), mode: .replace)
            _ = try store.writeSlot(slot, body: store.body(" two"), mode: .append)
            #expect(try directory.files() == [slot.fileName])
        }
        #expect(try openStore().read(slot) == "one two")
    }

    /// A record in progress is not a block: never listed, read or swept.
    @Test func journalRecordsAreNotBlocks() throws {
        let store = try openStore()
        let slot = BlockAddress.random()
        _ = try store.writeSlot(slot, body: store.body("value"), mode: .replace)
        let record = try AppendJournal.begin(slot: slot, length: 5, in: store)
        #expect(try store.list().map(\.address) == [slot])
        guard case .absent = try store.open(record, touch: false) else {
            Issue.record("a journal record was opened as a block")
            return
        }
        clock.advance(by: .seconds(10_000))
        store.sweep(now: clock.now())
        #expect(try directory.files().contains(record.fileName))
    }

    @Test func anAppendBeyondTheBlockLimitChangesNothing() throws {
        let store = try openStore(maxBlockSize: 10)
        let slot = BlockAddress.random()
        _ = try store.writeSlot(slot, body: store.body("12345678"), mode: .replace)
        #expect(try store.writeSlot(slot, body: store.body("abc"), mode: .append) == .refusedTooLarge)
        #expect(try store.read(slot) == "12345678")
        #expect(try store.writeSlot(slot, body: store.body("ab"), mode: .append) == .stored)
        #expect(try store.read(slot) == "12345678ab")
        #expect(try directory.files() == [slot.fileName])
    }

    /// A FIFO under a block name would block whoever opens it for reading.
    @Test func aFIFOUnderABlockNameIsNoBlock() throws {
        let address = BlockAddress.random()
        #expect(mkfifo(directory.path + "/" + address.fileName, 0o644) == 0)
        let store = try openStore()
        guard case .absent = try store.open(address, touch: true) else {
            Issue.record("a FIFO was read as a block")
            return
        }
        #expect(try store.list().isEmpty)
        #expect(store.statistics.blocks == 0)
        #expect(try store.writeSlot(address, body: store.body("x"), mode: .append) == .refusedExists)
    }

    @Test func aFullFileSystemIsNotReady() throws {
        let store = try openStore()
        #expect(store.acceptsWrites(reserve: 0))
        #expect(!store.acceptsWrites(reserve: Int.max))
    }

    /// Readers race every kind of mutation; once a mutation returned, no
    /// read may show the old value (the read cache once put it back).
    @Test(arguments: ["replace", "append", "delete", "take"])
    func everyReadAfterAMutationSeesIt(_ kind: String) throws {
        let store = try openStore()
        let slot = BlockAddress.random()
        let stop = StopFlag()
        let readers = (0..<3).map { _ in
            Thread {
                while !stop.isSet { _ = try? store.read(slot) }
            }
        }
        readers.forEach { $0.start() }
        defer { stop.set() }
        for round in 0..<2000 {
            let value = "value \(round)"
            _ = try store.writeSlot(slot, body: store.body(value), mode: .replace)
            switch kind {
            case "replace":
                _ = try store.writeSlot(slot, body: store.body(value + " replaced"), mode: .replace)
                #expect(try store.read(slot) == value + " replaced")
            case "append":
                _ = try store.writeSlot(slot, body: store.body("+"), mode: .append)
                #expect(try store.read(slot) == value + "+")
            case "delete":
                #expect(try store.deleteSlot(slot) == .deleted)
                #expect(try store.read(slot) == nil)
            default:
                guard case .taken(let block) = try store.take(slot, touch: true) else {
                    Issue.record("round \(round): nothing to take")
                    return
                }
                block.close()
                guard case .absent = try store.take(slot, touch: true) else {
                    Issue.record("round \(round): taken twice")
                    return
                }
                #expect(try store.read(slot) == nil)
            }
        }
    }
}

final class StopFlag: Sendable {
    private let value = Atomic(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}
