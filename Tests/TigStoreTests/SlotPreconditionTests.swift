import Dispatch
import Synchronization
import Testing
import TigAddress
@testable import TigStore

/// Conditional slot writes (`If-Match`, `If-None-Match: *`): decided under
/// the slot's lock, so that compare-and-set has exactly one winner.
@Suite struct SlotPreconditionTests {
    let directory: TemporaryDirectory
    let store: BlockStore

    init() throws {
        directory = try TemporaryDirectory()
        store = try BlockStore(directory: directory, clock: FakeClock())
    }

    @Test func ifMatchWritesOnlyOverTheValueItNames() throws {
        let slot = BlockAddress.random()
        _ = try store.writeSlot(slot, body: store.body("v1"), mode: .replace)
        #expect(try store.writeSlot(slot, body: store.body("v2"), mode: .replace, precondition: .valueHash(in: [sha256("v0")]))
            == .refusedPrecondition)
        #expect(try store.read(slot) == "v1")
        #expect(try store.writeSlot(slot, body: store.body("v2"), mode: .replace, precondition: .valueHash(in: [sha256("v0"), sha256("v1")]))
            == .stored)
        #expect(try store.read(slot) == "v2")
        #expect(try store.writeSlot(slot, body: store.body("+"), mode: .append, precondition: .valueHash(in: [sha256("v2")])) == .stored)
        #expect(try store.read(slot) == "v2+")
        #expect(try store.writeSlot(slot, body: store.body("+"), mode: .append, precondition: .valueHash(in: [sha256("v2")]))
            == .refusedPrecondition, "the append changed the tag")
    }

    @Test func anAbsentSlotMatchesNoTagAndNotStar() throws {
        let slot = BlockAddress.random()
        #expect(try store.writeSlot(slot, body: store.body("x"), mode: .replace, precondition: .exists) == .refusedPrecondition)
        #expect(try store.writeSlot(slot, body: store.body("x"), mode: .replace, precondition: .valueHash(in: [sha256("")]))
            == .refusedPrecondition)
        #expect(try store.read(slot) == nil)
        #expect(try directory.files().isEmpty, "nothing was linked")
    }

    @Test func ifNoneMatchStarCreatesOnce() throws {
        let slot = BlockAddress.random()
        #expect(try store.writeSlot(slot, body: store.body("first"), mode: .replace, precondition: .absent) == .stored)
        #expect(try store.writeSlot(slot, body: store.body("second"), mode: .replace, precondition: .absent) == .refusedPrecondition)
        #expect(try store.writeSlot(slot, body: store.body("third"), mode: .replace, precondition: .exists) == .stored)
        #expect(try store.read(slot) == "third")
    }

    @Test func aContentBlockIsTaggedByItsAddressAndStaysImmutable() throws {
        let content = try store.storeContent(store.body("immutable"))
        #expect(try store.writeSlot(content, body: store.body("x"), mode: .replace, precondition: .valueHash(in: [content]))
            == .refusedContent)
        #expect(try store.writeSlot(content, body: store.body("x"), mode: .replace, precondition: .valueHash(in: [sha256("x")]))
            == .refusedPrecondition)
        #expect(try store.read(content) == "immutable")
    }

    @Test func theTagIsTheHashOfTheValue() throws {
        let slot = BlockAddress.random()
        _ = try store.writeSlot(slot, body: store.body("tagged"), mode: .replace)
        guard case .block(let block) = try store.open(slot, touch: false) else {
            Issue.record("no slot")
            return
        }
        defer { block.close() }
        #expect(try block.valueHash() == sha256("tagged"))
        let file = try #require(try store.openStored(slot))
        defer { file.close() }
        #expect(try StoredBlock(kind: .slot, bytes: .file(file)).valueHash() == sha256("tagged"), "a file hashes as its bytes do")
    }

    @Test func ofWritersPresentingTheSameTagExactlyOneWins() throws {
        let store = self.store
        let slot = BlockAddress.random()
        _ = try store.writeSlot(slot, body: store.body("start"), mode: .replace)
        // Each body goes to exactly one thread.
        nonisolated(unsafe) let bodies = try (0..<32).map { try store.body("writer \($0)") }
        let wins = Atomic(0)
        DispatchQueue.concurrentPerform(iterations: bodies.count) { index in
            let outcome = try? store.writeSlot(slot, body: bodies[index], mode: .replace, precondition: .valueHash(in: [sha256("start")]))
            if outcome == .stored { wins.add(1, ordering: .relaxed) }
        }
        #expect(wins.load(ordering: .relaxed) == 1)
        #expect(try store.read(slot)?.hasPrefix("writer ") == true)
    }
}
