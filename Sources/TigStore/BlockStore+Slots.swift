import CTigSystem
import Glibc
import TigAddress

/// Key slots and their atomic operations: replace, create-only, append,
/// take and delete. Each runs under the address's lock and is all-or-nothing
/// across a crash: a replace is a `rename`, a create a `link`, take and
/// delete an `unlink`, and an append is journaled (`AppendJournal`).
extension BlockStore {
    /// How a key-slot write treats an existing value.
    public enum SlotWriteMode: Sendable, Equatable {
        /// Replace the value (plain `PUT`).
        case replace
        /// Create only if absent (`setifnot=1`).
        case createOnly
        /// Append to the value (`append=1`).
        case append
    }

    /// What must hold of the address's current value for a write to apply
    /// (RFC 9110 §13.1): checked under the slot's lock, so that of writers
    /// presenting the same tag exactly one wins (compare-and-set).
    public enum SlotPrecondition: Sendable, Equatable {
        case none
        /// `If-None-Match: *`: nothing is there.
        case absent
        /// `If-Match: *`: something is there.
        case exists
        /// `If-Match: "<h>"…`: the value hashes to one of these (a content
        /// block's tag is its address).
        case valueHash(in: Set<BlockAddress>)
    }

    public enum SlotWriteOutcome: Sendable, Equatable {
        case stored
        /// The precondition did not hold; nothing changed.
        case refusedPrecondition
        /// The address holds a content block (immutable).
        case refusedContent
        /// The address holds a channel marker (cannot be overwritten).
        case refusedChannel
        /// `createOnly` found the address taken.
        case refusedExists
        /// The slot would grow beyond `maxBlockSize`; nothing changed.
        case refusedTooLarge
    }

    /// Writes a key slot. A body that hashes to the slot's own address is
    /// stored as that content block (its address is then authoritative).
    public func writeSlot(
        _ address: BlockAddress, body: IncomingBlock, mode: SlotWriteMode, precondition: SlotPrecondition = .none
    ) throws -> SlotWriteOutcome {
        let isOwnContent = body.address == address
        // What the write adds: all of an append, a replacement's growth.
        let growth = mode == .append ? body.size : body.size - storedSize(of: address)
        if growth > 0 { try makeRoom(for: growth, keeping: address) }
        return try locks.withLock(address) {
            let existing = try inspectLocked(address)
            guard try holds(precondition, at: address, existing) else { return .refusedPrecondition }
            switch (existing, mode) {
            case (.content, _):
                return .refusedContent
            case (.marker, _):
                return .refusedChannel
            case (.slot, .createOnly):
                return .refusedExists
            case (.absent, _):
                if isOwnContent {
                    try linkContentLocked(body, at: address)
                } else {
                    guard fchmod(body.descriptor, BlockKind.slot.mode) == 0 else { throw StoreError("fchmod") }
                    guard try linkNew(body, at: address) else { return .refusedExists }
                }
                return .stored
            case (.slot(let size), .replace):
                let kind: BlockKind = isOwnContent ? .content : .slot
                guard fchmod(body.descriptor, kind.mode) == 0 else { throw StoreError("fchmod") }
                try replaceLocked(address, with: body, oldSize: size)
                return .stored
            case (.slot(let size), .append):
                guard size <= maxBlockSize - body.size else { return .refusedTooLarge }
                try appendLocked(body, to: address)
                return .stored
            }
        }
    }

    private func holds(_ precondition: SlotPrecondition, at address: BlockAddress, _ existing: Existing) throws -> Bool {
        switch (precondition, existing) {
        case (.none, _), (.absent, .absent): return true
        case (.absent, _), (.exists, .absent), (.valueHash, .absent): return false
        case (.exists, _): return true
        case (.valueHash(let tags), .content): return tags.contains(address)
        case (.valueHash, .marker): return false
        case (.valueHash(let tags), .slot):
            guard let file = try openStored(address) else { return false }
            defer { file.close() }
            return tags.contains(try file.valueHash())
        }
    }

    /// Appends the body to an existing slot with `O_APPEND`. The address lock
    /// keeps concurrent appends whole; a journal record names the old length
    /// while the bytes are copied, so that neither a failure nor a crash
    /// leaves part of an append in the slot.
    private func appendLocked(_ body: IncomingBlock, to address: BlockAddress) throws {
        let target = address.withFileName { tig_open_append(directoryDescriptor, $0) }
        guard target >= 0 else { throw StoreError("open for append \(address)") }
        defer { close(target) }
        var status = stat()
        guard fstat(target, &status) == 0 else { throw StoreError("fstat \(address)") }
        let journal = try AppendJournal.begin(slot: address, length: Int(status.st_size), in: self)
        // Readers may have seen a prefix of the append meanwhile; none of it
        // stays cached once it is over, whichever way it ended.
        defer { changed(address) }
        do {
            try copy(from: body.descriptor, count: body.size, to: target)
        } catch {
            _ = ftruncate(target, status.st_size)
            AppendJournal.end(journal, in: self)
            throw error
        }
        AppendJournal.end(journal, in: self)
        statistics.resized(by: body.size)
    }

    private func copy(from source: CInt, count: Int, to target: CInt) throws {
        let chunk = 1 << 16
        try withUnsafeTemporaryAllocation(byteCount: chunk, alignment: 16) { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < count {
                let read = pread(source, base, min(chunk, count - offset), off_t(offset))
                if read < 0 {
                    if errno == EINTR { continue }
                    throw StoreError("pread")
                }
                guard read > 0 else { throw StoreError("pread", code: EIO) }
                var written = 0
                while written < read {
                    let result = write(target, base + written, read - written)
                    if result < 0 {
                        if errno == EINTR { continue }
                        throw StoreError("append")
                    }
                    written += result
                }
                offset += read
            }
        }
    }

    // MARK: - Take and delete

    public enum TakeOutcome: Sendable {
        case absent
        /// The slot's value, already removed from the store (or a content
        /// block, which `take` only reads). The caller closes it.
        case taken(StoredBlock)
        case channel(ChannelMarker)
    }

    /// Reads a key slot and deletes it in one step: of concurrent takers
    /// exactly one gets the value. It reads the file itself under the lock,
    /// never the read cache, so a value once taken is never given again.
    public func take(_ address: BlockAddress, touch: Bool) throws -> TakeOutcome {
        try locks.withLock(address) {
            guard let file = try openStored(address) else { return .absent }
            if file.kind == .content, touch { self.touch(file) }
            switch try lookup(file) {
            case .absent:
                return .absent
            case .channel(let marker):
                return .channel(marker)
            case .block(let block):
                if block.kind == .slot {
                    try unlinkLocked(address, size: block.size)
                }
                return .taken(block)
            }
        }
    }

    public enum DeleteOutcome: Sendable, Equatable {
        case deleted
        case absent
        /// Content blocks and channel markers cannot be deleted.
        case refused
    }

    public func deleteSlot(_ address: BlockAddress) throws -> DeleteOutcome {
        try locks.withLock(address) {
            switch try inspectLocked(address) {
            case .absent:
                return .absent
            case .content, .marker:
                return .refused
            case .slot(let size):
                try unlinkLocked(address, size: size)
                return .deleted
            }
        }
    }
}
