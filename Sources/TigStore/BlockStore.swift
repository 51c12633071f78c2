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
/// address run under that address's lock; reads take none. This file holds
/// the primitives: opening, reading, linking and replacing files. Key-slot
/// operations, handover and expiry build on them in their own files.
public final class BlockStore: Sendable {
    public let directory: String
    public let policy: RetentionPolicy
    /// The largest block or slot the store holds (a body or an append that
    /// would exceed it is refused).
    public let maxBlockSize: Int
    /// `--max-data-size`: the stored bytes stay below it (see `makeRoom`).
    public let maxDataSize: Int?
    public let statistics = StoreStatistics()
    let directoryDescriptor: CInt
    let clock: any WallClock
    let locks = AddressLocks()
    let schedule: NIOLockedValueBox<RetentionSchedule>
    let logger: Logger
    let cache: ReadCache

    /// Opens the data directory, checks that it can hold unnamed files, rolls
    /// back appends a crash interrupted, and files every existing block for
    /// retention from now (a restart gives every block a full period).
    /// - Parameter cacheSize: bytes of small blocks kept in memory (0: none).
    /// - Parameter maxDataSize: bound of the stored bytes (nil: the file system's size).
    public init(
        directory: String, retention: Duration, maxBlockSize: Int = 128 << 20, cacheSize: Int = 64 << 20,
        maxDataSize: Int? = nil, clock: any WallClock, logger: Logger
    ) throws {
        self.directory = directory
        self.maxBlockSize = maxBlockSize
        self.maxDataSize = maxDataSize
        self.cache = ReadCache(capacity: cacheSize)
        self.clock = clock
        self.logger = logger
        let now = clock.now()
        self.policy = RetentionPolicy(retention: retention, startTime: now)
        self.schedule = NIOLockedValueBox(RetentionSchedule(step: policy.sweepStep, now: now))
        let descriptor = tig_open_directory(directory)
        guard descriptor >= 0 else { throw StoreError("open \(directory)") }
        self.directoryDescriptor = descriptor
        let probe = tig_open_unnamed(descriptor)
        guard probe >= 0 else { throw StoreError("create unnamed files (O_TMPFILE) in \(directory)") }
        close(probe)
        AppendJournal.recover(in: self)
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
        // Taken before opening: a mutation that lands after this point
        // makes the fill below a no-op (see `ReadCache`).
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
    func lookup(_ block: StoredBlock) -> Lookup {
        guard ChannelMarker.possibleSizes.contains(block.size), case .memory(let bytes) = block.bytes,
              let marker = ChannelMarker(value: bytes) else {
            return .block(block)
        }
        // Only a key slot can forward writes; a content block holding the
        // write-only text is just that text.
        if case .writeOnly = marker, block.kind == .content { return .block(block) }
        return .channel(marker)
    }

    /// An open file as a read sees it: values of a marker's size are read
    /// (and the file closed) so that a channel is recognised.
    func lookup(_ file: BlockFile) throws -> Lookup {
        guard ChannelMarker.possibleSizes.contains(file.size) else { return .block(StoredBlock(kind: file.kind, bytes: .file(file))) }
        defer { file.close() }
        return lookup(StoredBlock(kind: file.kind, bytes: .memory(try file.readAll())))
    }

    /// Opens `address` as stored, without interpreting channel markers or
    /// touching its timer: the bytes and kind, for handing it to another pod.
    /// Anything but a regular block file (a FIFO, a device, an append's
    /// journal record) is not a block: it is never opened blocking and never
    /// read.
    public func openStored(_ address: BlockAddress) throws -> BlockFile? {
        let descriptor = address.withFileName { tig_open_read(directoryDescriptor, $0) }
        guard descriptor >= 0 else {
            if errno == ENOENT || errno == ELOOP { return nil }
            throw StoreError("open \(address)")
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.isBlockFile else {
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

    /// Whether this pod holds anything at `address`.
    public func holds(_ address: BlockAddress) -> Bool {
        (try? presence(of: address)) != .absent
    }

    /// Resets a block's retention timer, unless it was reset very recently,
    /// and returns its last use.
    @discardableResult
    func touch(_ file: BlockFile) -> WallTime {
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

    func setLastUse(_ address: BlockAddress, to time: WallTime) {
        var times = [timespec](repeating: timespec(wallTime: time), count: 2)
        _ = address.withFileName { utimensat(directoryDescriptor, $0, &times, AT_SYMLINK_NOFOLLOW) }
    }

    // MARK: - Crash-safe writes

    /// Starts receiving a body of at most `limit` bytes (the store's
    /// `maxBlockSize` unless smaller).
    public func incoming(limit: Int? = nil, hashing: IncomingBlock.Hashing = .inline) throws -> IncomingBlock {
        try IncomingBlock(directory: directoryDescriptor, limit: min(limit ?? maxBlockSize, maxBlockSize), hashing: hashing)
    }

    /// Stores a body as the content block at its SHA-256 and returns that
    /// address. Storing bytes that are already stored only resets their timer;
    /// a key slot squatting at the address is replaced, because a content
    /// address is authoritative.
    @discardableResult
    public func storeContent(_ body: IncomingBlock) throws -> BlockAddress {
        let address = body.address
        // (A block stored again needs no room; whether it is here costs a
        // system call, asked only when room is short.)
        if needsRoom(for: body.size), !holds(address) { try makeRoom(for: body.size, keeping: address) }
        try locks.withLock(address) {
            try linkContentLocked(body, at: address)
        }
        return address
    }

    func linkContentLocked(_ body: IncomingBlock, at address: BlockAddress) throws {
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

    /// What an address holds, seen under its lock.
    enum Existing {
        case absent
        case content
        case slot(size: Int)
        case marker(ChannelMarker, size: Int)
    }

    /// Reads only what the decision needs: the kind and size, and the bytes
    /// only when they could be a channel marker (a write must not pull a
    /// slot's whole value into memory, or into the read cache).
    func inspectLocked(_ address: BlockAddress) throws -> Existing {
        guard let file = try openStored(address) else { return .absent }
        let kind = file.kind, size = file.size
        switch try lookup(file) {
        case .channel(let marker): return .marker(marker, size: size)
        case .block(let block): block.close()
        case .absent: break
        }
        return kind == .content ? .content : .slot(size: size)
    }

    /// Links the unnamed body under the address; false if the name is taken.
    func linkNew(_ body: IncomingBlock, at address: BlockAddress) throws -> Bool {
        let result = address.withFileName { tig_link_unnamed(body.descriptor, directoryDescriptor, $0) }
        if result != 0 {
            if errno == EEXIST { return false }
            throw StoreError("link \(address)")
        }
        changed(address)
        statistics.added(bytes: body.size)
        fileForRetention(address)
        return true
    }

    /// Atomically replaces the file at `address`: link the body under a fresh
    /// random `<64 hex>.tig` name, then rename it over the old one. Readers see
    /// the old file or the new one, never a mix; a crash in between leaves an
    /// unreachable random slot that retention removes.
    func replaceLocked(_ address: BlockAddress, with body: IncomingBlock, oldSize: Int) throws {
        let temporary = try linkUnderRandomName(body.descriptor)
        let renamed = temporary.withFileName { from in
            address.withFileName { to in renameat(directoryDescriptor, from, directoryDescriptor, to) }
        }
        guard renamed == 0 else {
            let error = StoreError("rename over \(address)")
            _ = temporary.withFileName { unlinkat(directoryDescriptor, $0, 0) }
            throw error
        }
        changed(address)
        statistics.resized(by: body.size - oldSize)
        fileForRetention(address)
    }

    /// Gives an unnamed file a fresh random `<64 hex>.tig` name.
    func linkUnderRandomName(_ descriptor: CInt) throws -> BlockAddress {
        while true {
            let name = BlockAddress.random()
            if name.withFileName({ tig_link_unnamed(descriptor, directoryDescriptor, $0) }) == 0 { return name }
            guard errno == EEXIST else { throw StoreError("link temporary") }
        }
    }

    func unlinkLocked(_ address: BlockAddress, size: Int) throws {
        let result = address.withFileName { unlinkat(directoryDescriptor, $0, 0) }
        guard result == 0 else {
            if errno == ENOENT { return }
            throw StoreError("unlink \(address)")
        }
        changed(address)
        statistics.removed(bytes: size)
    }

    /// Every mutation calls this once it has landed, still under the
    /// address's lock: from here on no read can put the old value back into
    /// the cache, so every read after the mutation's answer sees it.
    func changed(_ address: BlockAddress) {
        cache.invalidate(address)
    }

    // MARK: - Capacity

    /// Free bytes (for unprivileged writers) and the size of the file
    /// system holding the data directory, as `df` shows them.
    public var fileSystemSpace: (free: Int, size: Int)? {
        var status = statvfs()
        guard fstatvfs(directoryDescriptor, &status) == 0 else { return nil }
        return (
            free: Int(clamping: UInt64(status.f_bavail) &* UInt64(status.f_frsize)),
            size: Int(clamping: UInt64(status.f_blocks) &* UInt64(status.f_frsize)))
    }

    /// Whether a write of `reserve` bytes could succeed now: the file system
    /// has that much free, and a probe write into an unnamed file works (a
    /// full tmpfs still creates files, but refuses their first byte).
    public func acceptsWrites(reserve: Int) -> Bool {
        var status = statvfs()
        guard fstatvfs(directoryDescriptor, &status) == 0 else { return false }
        let free = UInt64(status.f_bavail) &* UInt64(status.f_frsize)
        guard free >= UInt64(max(reserve, 0)) else { return false }
        let probe = tig_open_unnamed(directoryDescriptor)
        guard probe >= 0 else { return false }
        defer { close(probe) }
        var byte: UInt8 = 0
        return write(probe, &byte, 1) == 1
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

    /// Calls `body` for every block file (regular `<64 hex>.tig`, not a
    /// journal record); other names are not the store's and are left alone.
    func forEachBlockFile(_ body: (BlockAddress, stat) throws -> Void) throws {
        try forEachRegularFile { address, status in
            if status.isBlockFile { try body(address, status) }
        }
    }

    /// Calls `body` for every regular `<64 hex>.tig` file.
    func forEachRegularFile(_ body: (BlockAddress, stat) throws -> Void) throws {
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
}
