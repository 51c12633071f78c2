import Glibc

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

    init(descriptor: CInt, status: stat) {
        self.descriptor = descriptor
        self.size = Int(status.st_size)
        self.kind = BlockKind(mode: status.st_mode)
        self.lastUse = status.lastUse
    }

    public func close() {
        _ = Glibc.close(descriptor)
    }

    /// Reads the whole block (for small blocks and for burst lists).
    public func readAll() throws -> [UInt8] {
        try readPrefix(size)
    }

    /// Reads up to `count` bytes from the start.
    public func readPrefix(_ count: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            while initialized < count {
                let result = pread(descriptor, buffer.baseAddress! + initialized, count - initialized, off_t(initialized))
                if result < 0 {
                    if errno == EINTR { continue }
                    throw StoreError("pread")
                }
                if result == 0 { break }
                initialized += result
            }
        }
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
}
