/// A 256-bit block address: the `<h>` of `/<h>.tig`.
///
/// Stored as four words so it hashes and compares cheaply and can be kept by
/// the million in the retention schedule.
public struct BlockAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var words: (UInt64, UInt64, UInt64, UInt64)

    public init(words: (UInt64, UInt64, UInt64, UInt64)) {
        self.words = words
    }

    /// Builds an address from 32 raw bytes (a SHA-256 digest).
    @inlinable
    public init<Bytes: Collection<UInt8>>(digest: Bytes) {
        precondition(digest.count == 32, "a block address is 32 bytes")
        var words: [UInt64] = [0, 0, 0, 0]
        for (index, byte) in digest.enumerated() {
            words[index / 8] = words[index / 8] << 8 | UInt64(byte)
        }
        self.words = (words[0], words[1], words[2], words[3])
    }

    /// Parses exactly 64 lowercase hex digits. Anything else (uppercase,
    /// other lengths, other characters) is not an address. Inlinable, like
    /// the other parsers: they run on every request, and an unspecialised
    /// generic walk of the bytes costs more than the parsing itself.
    @inlinable
    public init?<Bytes: Collection<UInt8>>(hex: Bytes) {
        guard hex.count == 64 else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var index = 0
        for byte in hex {
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte &- UInt8(ascii: "a") &+ 10
            default: return nil
            }
            let value = UInt64(nibble)
            switch index / 16 {
            case 0: words.0 = words.0 << 4 | value
            case 1: words.1 = words.1 << 4 | value
            case 2: words.2 = words.2 << 4 | value
            default: words.3 = words.3 << 4 | value
            }
            index += 1
        }
        self.words = words
    }

    public init?(hex: String) {
        self.init(hex: Array(hex.utf8))
    }

    /// Parses a block path `/<64 hex>.tig` (the form used in requests, burst
    /// lists and channel markers).
    @inlinable
    public init?<Bytes: Collection<UInt8>>(path: Bytes) {
        guard path.count == Self.pathLength, path.first == UInt8(ascii: "/") else { return nil }
        let hexStart = path.index(after: path.startIndex)
        let hexEnd = path.index(hexStart, offsetBy: 64)
        guard path[hexEnd...].elementsEqual(".tig".utf8) else { return nil }
        self.init(hex: path[hexStart..<hexEnd])
    }

    public init?(path: String) {
        self.init(path: Array(path.utf8))
    }

    /// Length of `/<64 hex>.tig`.
    public static let pathLength = 69

    /// The file name in the data directory: `<64 hex>.tig`.
    public var fileName: String { spelled(prefix: "", suffix: ".tig") }

    /// The path clients use: `/<64 hex>.tig`.
    public var path: String { spelled(prefix: "/", suffix: ".tig") }

    public var hex: String { spelled(prefix: "", suffix: "") }

    /// `prefix`, the 64 hex digits, `suffix`, in one allocation: every
    /// answer spells its address (path, ETag), so this is on the hot path.
    private func spelled(prefix: StaticString, suffix: StaticString) -> String {
        let count = prefix.utf8CodeUnitCount + 64 + suffix.utf8CodeUnitCount
        return String(unsafeUninitializedCapacity: count) { buffer in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount))
            writeHex(into: UnsafeMutableBufferPointer(rebasing: buffer[prefix.utf8CodeUnitCount...]))
            UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[(prefix.utf8CodeUnitCount + 64)...])
                .copyMemory(from: UnsafeRawBufferPointer(start: suffix.utf8Start, count: suffix.utf8CodeUnitCount))
            return count
        }
    }

    /// The 64 lowercase hex digits, most significant first, into `buffer` (at least 64 bytes).
    private func writeHex(into buffer: UnsafeMutableBufferPointer<UInt8>) {
        for wordIndex in 0..<4 {
            let word = self.word(wordIndex)
            for nibbleIndex in 0..<16 {
                let nibble = UInt8(truncatingIfNeeded: word >> UInt64(60 - 4 * nibbleIndex)) & 0xF
                buffer[wordIndex * 16 + nibbleIndex] = nibble < 10 ? nibble + 48 : nibble + 87
            }
        }
    }

    private func word(_ index: Int) -> UInt64 {
        switch index {
        case 0: words.0
        case 1: words.1
        case 2: words.2
        default: words.3
        }
    }

    public var description: String { path }

    /// The 32 bytes of the address, most significant first.
    public var bytes: [UInt8] {
        var result = [UInt8]()
        result.reserveCapacity(32)
        for word in [words.0, words.1, words.2, words.3] {
            for shift in stride(from: 56, through: 0, by: -8) {
                result.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        return result
    }

    public static func == (lhs: BlockAddress, rhs: BlockAddress) -> Bool {
        lhs.words == rhs.words
    }

    public static func < (lhs: BlockAddress, rhs: BlockAddress) -> Bool {
        (lhs.words.0, lhs.words.1, lhs.words.2, lhs.words.3) < (rhs.words.0, rhs.words.1, rhs.words.2, rhs.words.3)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// A fresh random address (256 bits from the system's CSPRNG).
    public static func random() -> BlockAddress {
        var generator = SystemRandomNumberGenerator()
        return BlockAddress(words: (generator.next(), generator.next(), generator.next(), generator.next()))
    }
}

extension BlockAddress {
    /// Calls `body` with the NUL-terminated file name `<64 hex>.tig`, built on
    /// the stack: the hot read path does not allocate a String per request.
    public func withFileName<Result>(_ body: (UnsafePointer<CChar>) throws -> Result) rethrows -> Result {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 69) { buffer in
            writeHex(into: buffer)
            for (offset, byte) in ".tig".utf8.enumerated() {
                buffer[64 + offset] = byte
            }
            buffer[68] = 0
            return try buffer.withMemoryRebound(to: CChar.self) { try body(UnsafePointer($0.baseAddress!)) }
        }
    }

    /// Parses a data-directory file name `<64 hex>.tig`.
    @inlinable
    public init?<Bytes: Collection<UInt8>>(fileName: Bytes) {
        guard fileName.count == 68, fileName.suffix(4).elementsEqual(".tig".utf8) else { return nil }
        self.init(hex: fileName.prefix(64))
    }
}
