import Glibc
import NIOCore

/// An open file descriptor, closed when released (unless it is one of the
/// standard streams). Reads and writes retry on EINTR; `write` writes all.
public final class OpenFile: Sendable {
    private let descriptor: Int32
    public let path: RawPath
    private let owned: Bool

    private init(descriptor: Int32, path: RawPath, owned: Bool) {
        self.descriptor = descriptor
        self.path = path
        self.owned = owned
    }

    deinit {
        if owned { close(descriptor) }
    }

    public static let standardInput = OpenFile(descriptor: STDIN_FILENO, path: RawPath("standard input"), owned: false)
    public static let standardOutput = OpenFile(descriptor: STDOUT_FILENO, path: RawPath("standard output"), owned: false)
    public static let standardError = OpenFile(descriptor: STDERR_FILENO, path: RawPath("standard error"), owned: false)

    public static func reading(_ path: RawPath) throws -> OpenFile {
        try open(path, flags: O_RDONLY, mode: 0, operation: "open")
    }

    /// Creates a new file for reading and writing, failing if anything (a
    /// symlink included) is already there. `mode` is filtered by the umask.
    static func creating(_ path: RawPath, mode: mode_t) throws -> OpenFile {
        try open(path, flags: O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, mode: mode, operation: "create")
    }

    /// A copy of `source` (read to its end) in an unnamed temporary file,
    /// positioned at its start: makes a stream, such as standard input,
    /// readable twice.
    public static func spooling(_ source: OpenFile) throws -> OpenFile {
        let path = TemporaryName.inTemporaryDirectory("tig-spool")
        let copy = try creating(path, mode: 0o600)
        try FileSystem.remove(path)
        while let piece = try source.read(upTo: 1 << 20) {
            try copy.write(piece)
        }
        try copy.rewind()
        return copy
    }

    private static func open(_ path: RawPath, flags: Int32, mode: mode_t, operation: String) throws -> OpenFile {
        while true {
            let descriptor = Glibc.open(path.cString, flags | O_CLOEXEC, mode)
            if descriptor >= 0 { return OpenFile(descriptor: descriptor, path: path, owned: true) }
            if errno != EINTR { throw TigClientError.system(operation: operation, path: path.description, errno: errno) }
        }
    }

    /// One read(2) into `buffer`; 0 at the end of the file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let count = Glibc.read(descriptor, base, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw failure("read") }
        }
    }

    /// Reads until `buffer` is full or the file ends; answers the count.
    public func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let count = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if count == 0 { break }
            filled += count
        }
        return filled
    }

    /// Up to `count` bytes (fewer only at the end of the file); nil at the end.
    public func read(upTo count: Int) throws -> ByteBuffer? {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        let filled = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { space in
            try readFully(into: UnsafeMutableRawBufferPointer(rebasing: space.prefix(count)))
        }
        return filled == 0 ? nil : buffer
    }

    /// The whole file, refusing one longer than `limit` bytes.
    public func readAll(limit: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let piece = try read(upTo: 1 << 16) {
            bytes += piece.readableBytesView
            guard bytes.count <= limit else {
                throw TigClientError.invalidArgument("\(path) is larger than \(ByteCount.describe(Int64(limit)))")
            }
        }
        return bytes
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var remaining = bytes
        while let base = remaining.baseAddress, remaining.count > 0 {
            let count = Glibc.write(descriptor, base, remaining.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("write")
            }
            remaining = UnsafeRawBufferPointer(rebasing: remaining[count...])
        }
    }

    public func write(_ buffer: ByteBuffer) throws {
        try buffer.withUnsafeReadableBytes { try write($0) }
    }

    public func size() throws -> Int64 {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure("stat") }
        return Int64(status.st_size)
    }

    /// Sets the permission bits exactly, regardless of the umask.
    func setPermissions(_ mode: mode_t) throws {
        guard fchmod(descriptor, mode) == 0 else { throw failure("change the mode of") }
    }

    func rewind() throws {
        guard lseek(descriptor, 0, SEEK_SET) == 0 else { throw failure("seek in") }
    }

    private func failure(_ operation: String) -> TigClientError {
        .system(operation: operation, path: path.description, errno: errno)
    }
}
