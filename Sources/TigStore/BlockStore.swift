import CTigSystem
import Glibc
import Logging
import NIOConcurrencyHelpers
import TigAddress

/// The data directory: content blocks, key slots and channel markers as
/// `<64 hex>.tig` files, and nothing else.
///
/// Every new file starts unnamed (`O_TMPFILE`) and is linked under its name
/// only when complete, so no name ever shows partial bytes and a crash leaves
/// no content block whose bytes do not hash to its name. Mutations of one
/// address run under that address's lock; reads take none.
public final class BlockStore: Sendable {
    public let directory: String
    public let policy: RetentionPolicy
    public let statistics = StoreStatistics()
    let directoryDescriptor: CInt
    private let clock: any WallClock
    private let locks = AddressLocks()
    private let schedule: NIOLockedValueBox<RetentionSchedule>
    private let logger: Logger
    private let cache: ReadCache

    /// Opens the data directory, checks that it can hold unnamed files, and
    /// files every existing block for retention from now (a restart gives
    /// every block a full period).
    /// - Parameter cacheSize: bytes of small blocks kept in memory (0: none).
    public init(directory: String, retention: Duration, cacheSize: Int = 64 << 20, clock: any WallClock, logger: Logger) throws {
        self.directory = directory
        self.cache = ReadCache(capacity: cacheSize)
        self.clock = clock
        self.logger = logger
        let now = clock.now()
        self.policy = RetentionPolicy(retention: retention, startTime: now)
        self.schedule = NIOLockedValueBox(RetentionSchedule(step: policy.sweepStep, now: now))
        let descriptor = tig_open_directory(directory)
        guard descriptor >= 0 else { throw StoreError("open \(directory)") }
        self.directoryDescriptor = descriptor
        guard isWritable else {
            throw StoreError("create unnamed files (O_TMPFILE) in \(directory)")
        }
        try loadExistingBlocks(now: now)
    }

    deinit {
        close(directoryDescriptor)
    }

    private func loadExistingBlocks(now: WallTime) throws {
        let expiry = policy.expiry(lastUse: now)
        try forEachBlockFile { address, status in
            statistics.added(bytes: Int(status.st_size))
            schedule.withLockedValue { $0.schedule(address, expiry: expiry) }
        }
    }

    /// Whether a new block could be created now (the readiness check).
    public var isWritable: Bool {
        let probe = tig_open_unnamed(directoryDescriptor)
        guard probe >= 0 else { return false }
        close(probe)
        return true
    }

    // MARK: - Reading

    /// What a read finds at an address.
    public enum Lookup: Sendable {
        case absent
        /// A content block or plain key slot; the caller closes it.
        case block(StoredBlock)
        /// A channel marker.
        case channel(ChannelMarker)
    }

    /// Opens `address` for reading and, when `touch` is set, resets its
    /// retention timer. Small blocks come from (and go into) the read cache.
    public func open(_ address: BlockAddress, touch: Bool) throws -> Lookup {
        if let entry = cache.entry(address) {
            if touch { touchCached(address, lastUse: entry.lastUse) }
            return lookup(StoredBlock(kind: entry.kind, bytes: .memory(entry.bytes)))
        }
        let generation = cache.generation(address)
        guard let file = try openStored(address) else { return .absent }
        let lastUse = touch ? self.touch(file) : file.lastUse
        guard cache.isEnabled || ChannelMarker.possibleSizes.contains(file.size), file.size <= ReadCache.entryLimit else {
            return lookup(StoredBlock(kind: file.kind, bytes: .file(file)))
        }
        defer { file.close() }
        let bytes = try file.readAll()
        cache.fill(address, ReadCache.Entry(bytes: bytes, kind: file.kind, lastUse: lastUse), ifUnchangedSince: generation)
        return lookup(StoredBlock(kind: file.kind, bytes: .memory(bytes)))
    }

    /// A block, or the channel it is a marker of.
    private func lookup(_ block: StoredBlock) -> Lookup {
        guard ChannelMarker.possibleSizes.contains(block.size), case .memory(let bytes) = block.bytes,
              let marker = ChannelMarker(value: bytes) else {
            return .block(block)
        }
        // Only a key slot can forward writes; a content block holding the
        // write-only text is just that text.
        if case .writeOnly = marker, block.kind == .content { return .block(block) }
        return .channel(marker)
    }

    /// Opens `address` as stored, without interpreting channel markers or
    /// touching its timer: the bytes and kind, for handing it to another pod.
    public func openStored(_ address: BlockAddress) throws -> BlockFile? {
        let descriptor = address.withFileName { tig_open_read(directoryDescriptor, $0) }
        guard descriptor >= 0 else {
            if errno == ENOENT || errno == ELOOP { return nil }
            throw StoreError("open \(address)")
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.isRegularFile else {
            close(descriptor)
            return nil
        }
        return BlockFile(descriptor: descriptor, status: status)
    }

    /// What `HEAD` reports: presence, kind and size, without touching timers.
    public enum Presence: Sendable, Equatable {
        case absent
        case block(kind: BlockKind, size: Int)
        case channel(ChannelMarker)
    }

    public func presence(of address: BlockAddress) throws -> Presence {
        switch try open(address, touch: false) {
        case .absent: return .absent
        case .channel(let marker): return .channel(marker)
        case .block(let block):
            block.close()
            return .block(kind: block.kind, size: block.size)
        }
    }

    /// Resets a block's retention timer, unless it was reset very recently,
    /// and returns its last use.
    @discardableResult
    private func touch(_ file: BlockFile) -> WallTime {
        let now = clock.now()
        guard policy.needsTouch(lastUse: file.lastUse, now: now) else { return file.lastUse }
        var times = [timespec](repeating: timespec(wallTime: now), count: 2)
        _ = futimens(file.descriptor, &times)
        return now
    }

    private func touchCached(_ address: BlockAddress, lastUse: WallTime) {
        let now = clock.now()
        guard policy.needsTouch(lastUse: lastUse, now: now) else { return }
        setLastUse(address, to: now)
        cache.touched(address, at: now)
    }

    private func setLastUse(_ address: BlockAddress, to time: WallTime) {
        var times = [timespec](repeating: timespec(wallTime: time), count: 2)
        _ = address.withFileName { utimensat(directoryDescriptor, $0, &times, AT_SYMLINK_NOFOLLOW) }
    }

    // MARK: - Writing

    /// Starts receiving a body of at most `limit` bytes.
    public func incoming(limit: Int, hashing: IncomingBlock.Hashing = .inline) throws -> IncomingBlock {
        try IncomingBlock(directory: directoryDescriptor, limit: limit, hashing: hashing)
    }

    /// Stores a body as the content block at its SHA-256 and returns that
    /// address. Storing bytes that are already stored only resets their timer;
    /// a key slot squatting at the address is replaced, because a content
    /// address is authoritative.
    @discardableResult
    public func storeContent(_ body: IncomingBlock) throws -> BlockAddress {
        let address = body.address
        try locks.withLock(address) {
            try linkContentLocked(body, at: address)
        }
        return address
    }

    private func linkContentLocked(_ body: IncomingBlock, at address: BlockAddress) throws {
        guard fchmod(body.descriptor, BlockKind.content.mode) == 0 else { throw StoreError("fchmod") }
        if try linkNew(body, at: address) { return }
        switch try inspectLocked(address) {
        case .content:
            // Same address, same bytes: storing again only resets the timer.
            let now = clock.now()
            setLastUse(address, to: now)
            cache.touched(address, at: now)
        case .absent:
            // Deleted between the failed link and the look: link again.
            try linkContentLocked(body, at: address)
        case .slot(let size), .marker(_, let size):
            try replaceLocked(address, with: body, oldSize: size)
        }
    }

    /// How a key-slot write treats an existing value.
    public enum SlotWriteMode: Sendable {
        /// Replace the value (plain `PUT`).
        case replace
        /// Create only if absent (`setifnot=1`).
        case createOnly
        /// Append to the value (`append=1`).
        case append
    }

    public enum SlotWriteOutcome: Sendable, Equatable {
        case stored
        /// The address holds a content block (immutable).
        case refusedContent
        /// The address holds a channel marker (cannot be overwritten).
        case refusedChannel
        /// `createOnly` found the address taken.
        case refusedExists
    }

    /// Writes a key slot. A body that hashes to the slot's own address is
    /// stored as that content block (its address is then authoritative).
    public func writeSlot(_ address: BlockAddress, body: IncomingBlock, mode: SlotWriteMode) throws -> SlotWriteOutcome {
        let isOwnContent = body.address == address
        return try locks.withLock(address) {
            let existing = try inspectLocked(address)
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
            case (.slot, .append):
                try appendLocked(body, to: address)
                return .stored
            }
        }
    }

    /// What an address holds, seen under its lock.
    private enum Existing {
        case absent
        case content
        case slot(size: Int)
        case marker(ChannelMarker, size: Int)
    }

    /// Reads only what the decision needs: the kind and size, and the bytes
    /// only when they could be a channel marker (a write must not pull a
    /// slot's whole value into memory, or into the read cache).
    private func inspectLocked(_ address: BlockAddress) throws -> Existing {
        guard let file = try openStored(address) else { return .absent }
        defer { file.close() }
        if ChannelMarker.possibleSizes.contains(file.size),
           case .channel(let marker) = lookup(StoredBlock(kind: file.kind, bytes: .memory(try file.readAll()))) {
            return .marker(marker, size: file.size)
        }
        return file.kind == .content ? .content : .slot(size: file.size)
    }

    /// Links the unnamed body under the address; false if the name is taken.
    private func linkNew(_ body: IncomingBlock, at address: BlockAddress) throws -> Bool {
        let result = address.withFileName { tig_link_unnamed(body.descriptor, directoryDescriptor, $0) }
        if result != 0 {
            if errno == EEXIST { return false }
            throw StoreError("link \(address)")
        }
        statistics.added(bytes: body.size)
        fileForRetention(address)
        return true
    }

    /// Atomically replaces the file at `address`: link the body under a fresh
    /// random `<64 hex>.tig` name, then rename it over the old one. Readers see
    /// the old file or the new one, never a mix; a crash in between leaves an
    /// unreachable random slot that retention removes.
    private func replaceLocked(_ address: BlockAddress, with body: IncomingBlock, oldSize: Int) throws {
        var temporary = BlockAddress.random()
        while true {
            let result = temporary.withFileName { tig_link_unnamed(body.descriptor, directoryDescriptor, $0) }
            if result == 0 { break }
            guard errno == EEXIST else { throw StoreError("link temporary") }
            temporary = BlockAddress.random()
        }
        cache.invalidate(address)
        let renamed = temporary.withFileName { from in
            address.withFileName { to in renameat(directoryDescriptor, from, directoryDescriptor, to) }
        }
        guard renamed == 0 else {
            let error = StoreError("rename over \(address)")
            _ = temporary.withFileName { unlinkat(directoryDescriptor, $0, 0) }
            throw error
        }
        statistics.resized(by: body.size - oldSize)
        fileForRetention(address)
    }

    /// Appends the body to an existing slot with `O_APPEND`. The address lock
    /// keeps concurrent appends whole; on failure the slot is cut back to its
    /// old length so no partial append remains.
    private func appendLocked(_ body: IncomingBlock, to address: BlockAddress) throws {
        cache.invalidate(address)
        let target = address.withFileName { tig_open_append(directoryDescriptor, $0) }
        guard target >= 0 else { throw StoreError("open for append \(address)") }
        defer { close(target) }
        var status = stat()
        guard fstat(target, &status) == 0 else { throw StoreError("fstat \(address)") }
        do {
            try copy(from: body.descriptor, count: body.size, to: target)
        } catch {
            _ = ftruncate(target, status.st_size)
            throw error
        }
        statistics.resized(by: body.size)
    }

    private func copy(from source: CInt, count: Int, to target: CInt) throws {
        let chunk = 1 << 16
        try withUnsafeTemporaryAllocation(byteCount: chunk, alignment: 16) { buffer in
            var offset = 0
            while offset < count {
                let read = pread(source, buffer.baseAddress!, min(chunk, count - offset), off_t(offset))
                if read < 0 {
                    if errno == EINTR { continue }
                    throw StoreError("pread")
                }
                guard read > 0 else { throw StoreError("pread", code: EIO) }
                var written = 0
                while written < read {
                    let result = write(target, buffer.baseAddress! + written, read - written)
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
    /// exactly one gets the value.
    public func take(_ address: BlockAddress, touch: Bool) throws -> TakeOutcome {
        try locks.withLock(address) {
            switch try open(address, touch: touch) {
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

    /// What `evict` found.
    public enum Eviction: Sendable, Equatable {
        /// Removed, or gone already (taken, deleted or swept).
        case evicted
        /// Kept: appended to since it was handed over.
        case appendedSince
        /// Kept: replaced since it was handed over (a new file).
        case replacedSince
    }

    /// Removes a block of any kind once another pod holds it (drain), if it
    /// is still exactly `handedOver`; otherwise says how it was written
    /// since, so that the newer bytes can be passed on first.
    public func evict(_ address: BlockAddress, ifStill handedOver: BlockFile) throws -> Eviction {
        try locks.withLock(address) {
            var status = stat()
            let found = address.withFileName { tig_stat_at(directoryDescriptor, $0, &status) }
            guard found == 0 else { return .evicted }
            let size = Int(status.st_size)
            switch (status.st_ino == handedOver.inode, size) {
            case (true, handedOver.size):
                try unlinkLocked(address, size: size)
                return .evicted
            case (true, let longer) where longer > handedOver.size:
                return .appendedSince
            default:
                return .replacedSince
            }
        }
    }

    private func unlinkLocked(_ address: BlockAddress, size: Int) throws {
        cache.invalidate(address)
        let result = address.withFileName { unlinkat(directoryDescriptor, $0, 0) }
        guard result == 0 else {
            if errno == ENOENT { return }
            throw StoreError("unlink \(address)")
        }
        statistics.removed(bytes: size)
    }

    // MARK: - Listing

    public struct Entry: Sendable, Equatable {
        public let address: BlockAddress
        public let kind: BlockKind
        public let size: Int
        public let lastUse: WallTime
    }

    /// Every stored block, newest first.
    public func list() throws -> [Entry] {
        var entries: [Entry] = []
        try forEachBlockFile { address, status in
            entries.append(Entry(address: address, kind: BlockKind(mode: status.st_mode), size: Int(status.st_size), lastUse: status.lastUse))
        }
        return entries.sorted { ($0.lastUse, $0.address) > ($1.lastUse, $1.address) }
    }

    /// Calls `body` for every regular `<64 hex>.tig` file; other names are
    /// not the store's and are left alone.
    private func forEachBlockFile(_ body: (BlockAddress, stat) throws -> Void) throws {
        let listing = dup(directoryDescriptor)
        guard listing >= 0, let stream = fdopendir(listing) else { throw StoreError("opendir \(directory)") }
        defer { closedir(stream) }
        rewinddir(stream)
        while let entry = readdir(stream) {
            let parsed: BlockAddress? = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let name = raw.prefix { $0 != 0 }
                return BlockAddress(fileName: name)
            }
            guard let address = parsed else { continue }
            var status = stat()
            let found = address.withFileName { tig_stat_at(directoryDescriptor, $0, &status) }
            guard found == 0, status.isRegularFile else { continue }
            try body(address, status)
        }
    }

    // MARK: - Retention

    private func fileForRetention(_ address: BlockAddress) {
        let expiry = policy.expiry(lastUse: clock.now())
        schedule.withLockedValue { $0.schedule(address, expiry: expiry) }
    }

    /// Deletes every block whose timer ran out by `now`, re-filing those that
    /// were used since they were filed. Returns how many were deleted.
    @discardableResult
    public func sweep(now: WallTime) -> Int {
        let due = schedule.withLockedValue { $0.takeDue(now: now) }
        var deleted = 0
        for address in due {
            do {
                if try expireIfIdle(address, now: now) { deleted += 1 }
            } catch {
                logger.warning("sweep-failed", metadata: ["address": "\(address)", "error": "\(error)"])
                schedule.withLockedValue { $0.schedule(address, expiry: now + policy.sweepStep) }
            }
        }
        return deleted
    }

    private func expireIfIdle(_ address: BlockAddress, now: WallTime) throws -> Bool {
        try locks.withLock(address) {
            var status = stat()
            let found = address.withFileName { tig_stat_at(directoryDescriptor, $0, &status) }
            guard found == 0 else {
                if errno == ENOENT { return false }
                throw StoreError("stat \(address)")
            }
            let expiry = policy.expiry(lastUse: status.lastUse)
            guard expiry <= now else {
                schedule.withLockedValue { $0.schedule(address, expiry: expiry) }
                return false
            }
            try unlinkLocked(address, size: Int(status.st_size))
            statistics.sweptOne()
            return true
        }
    }

    /// When the sweeper should next run.
    public var nextSweep: WallTime {
        schedule.withLockedValue { $0.nextStepEnd }
    }

    /// How many addresses the retention schedule tracks.
    public var scheduledCount: Int {
        schedule.withLockedValue { $0.count }
    }
}
