import Glibc
import TigAddress

/// What an address holds: a content block (immutable, its bytes hash to its
/// address) or a key slot (mutable). The kind is the file's mode: content
/// blocks are read-only files, so it survives restarts and drains.
public enum BlockKind: Sendable, Equatable {
    case content
    case slot

    static let contentMode: mode_t = 0o444
    static let slotMode: mode_t = 0o644

    init(mode: mode_t) {
        self = mode & 0o222 == 0 ? .content : .slot
    }

    var mode: mode_t {
        switch self {
        case .content: Self.contentMode
        case .slot: Self.slotMode
        }
    }
}

/// An open block. The caller owns the descriptor and must close it; an open
/// descriptor keeps the bytes readable even if the block is replaced, taken
/// or swept meanwhile.
public struct BlockFile: Sendable {
    public let descriptor: CInt
    public let size: Int
    public let kind: BlockKind
    public let lastUse: WallTime
    /// Which file this is: a replaced block is a new file (see `BlockStore.evict`).
    let inode: ino_t

    init(descriptor: CInt, status: stat) {
        self.descriptor = descriptor
        self.inode = status.st_ino
        self.size = Int(status.st_size)
        self.kind = BlockKind(mode: status.st_mode)
        self.lastUse = status.lastUse
    }

    /// A second, independent handle on the same bytes: the same file, and
    /// the same size as this handle saw (a slot appended to since keeps its
    /// first bytes, so the two send the same value). The caller closes it.
    public func duplicate() throws -> BlockFile {
        let copy = dup(descriptor)
        guard copy >= 0 else { throw StoreError("dup") }
        return BlockFile(descriptor: copy, as: self)
    }

    private init(descriptor: CInt, as original: BlockFile) {
        self.descriptor = descriptor
        self.inode = original.inode
        self.size = original.size
        self.kind = original.kind
        self.lastUse = original.lastUse
    }

    public func close() {
        _ = Glibc.close(descriptor)
    }

    /// Reads the whole block (for small blocks and for burst lists).
    public func readAll() throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            initialized = try read(at: 0, into: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    /// The SHA-256 of the bytes this handle saw (see `StoredBlock.valueHash`).
    func valueHash() throws -> BlockAddress {
        let hasher = SHA256Hasher()
        try withUnsafeTemporaryAllocation(byteCount: 1 << 16, alignment: 16) { slice in
            var offset = 0
            while offset < size {
                let read = try self.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: slice.prefix(size - offset)))
                guard read > 0 else { throw StoreError("pread", code: EIO) }
                hasher.update(UnsafeRawBufferPointer(rebasing: slice.prefix(read)))
                offset += read
            }
        }
        return hasher.finish()
    }

    /// Fills `buffer` from `offset` on (less only at the end of the file) and
    /// returns how many bytes it read.
    public func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var filled = 0
        while filled < buffer.count {
            let result = pread(descriptor, base + filled, buffer.count - filled, off_t(offset + filled))
            if result < 0 {
                if errno == EINTR { continue }
                throw StoreError("pread")
            }
            if result == 0 { break }
            filled += result
        }
        return filled
    }
}

extension timespec {
    init(wallTime: WallTime) {
        self.init(tv_sec: Int(wallTime / 1_000_000_000), tv_nsec: Int(wallTime % 1_000_000_000))
    }
}

extension stat {
    var lastUse: WallTime {
        WallTime(st_mtim.tv_sec) * 1_000_000_000 + WallTime(st_mtim.tv_nsec)
    }

    var isRegularFile: Bool {
        st_mode & S_IFMT == S_IFREG
    }

    /// A regular file that is a block, not an append's journal record.
    var isBlockFile: Bool {
        isRegularFile && st_mode & 0o7777 != AppendJournal.mode
    }
}

/// A block's bytes as a read finds them: an open file, or, for small blocks,
/// the bytes themselves (from the read cache).
public struct StoredBlock: Sendable {
    public enum Bytes: Sendable {
        case file(BlockFile)
        case memory([UInt8])
    }

    public let kind: BlockKind
    public let bytes: Bytes

    public init(kind: BlockKind, bytes: Bytes) {
        self.kind = kind
        self.bytes = bytes
    }

    public var size: Int {
        switch bytes {
        case .file(let file): file.size
        case .memory(let bytes): bytes.count
        }
    }

    public func readAll() throws -> [UInt8] {
        switch bytes {
        case .file(let file): try file.readAll()
        case .memory(let bytes): bytes
        }
    }

    /// The SHA-256 of the bytes: a key slot's entity tag, which changes
    /// exactly when its value does, whichever pod holds it and across
    /// restarts (an inode or a counter would not).
    public func valueHash() throws -> BlockAddress {
        switch bytes {
        case .file(let file): try file.valueHash()
        case .memory(let bytes): SHA256Hasher.address(of: bytes)
        }
    }

    /// Closes the file, if it is one.
    public func close() {
        if case .file(let file) = bytes { file.close() }
    }
}
