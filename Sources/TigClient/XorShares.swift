import Glibc
import NIOCore

/// XOR secret sharing of one piece of data among n holders: n − 1 pads of
/// uniformly random bytes from the system's CSPRNG, and the data XOR all
/// pads. Any n − 1 shares are independent uniform noise; all n XORed
/// together give the data back.
enum XorShares {
    static func split(_ piece: ByteBuffer, into count: Int) throws -> [ByteBuffer] {
        var last = piece
        var shares: [ByteBuffer] = []
        for _ in 1..<count {
            var pad = ByteBuffer(repeating: 0, count: piece.readableBytes)
            try pad.withUnsafeMutableReadableBytes { try SystemRandom.fill($0) }
            last.withUnsafeMutableReadableBytes { target in
                pad.withUnsafeReadableBytes { xor(into: target, $0) }
            }
            shares.append(pad)
        }
        shares.append(last)
        return shares
    }

    /// The XOR of equally long shares (the caller checks the lengths).
    static func combine(_ shares: [ByteBuffer]) -> ByteBuffer {
        guard var result = shares.first else { return ByteBuffer() }
        for share in shares.dropFirst() {
            result.withUnsafeMutableReadableBytes { target in
                share.withUnsafeReadableBytes { xor(into: target, $0) }
            }
        }
        return result
    }

    /// `target ^= source`, eight bytes at a time.
    static func xor(into target: UnsafeMutableRawBufferPointer, _ source: UnsafeRawBufferPointer) {
        let count = min(target.count, source.count)
        var offset = 0
        while offset + 8 <= count {
            let word = target.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                ^ source.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            target.storeBytes(of: word, toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        while offset < count {
            target[offset] ^= source[offset]
            offset += 1
        }
    }
}

/// The kernel's CSPRNG, read in bulk from /dev/urandom (one read per pad,
/// where `SystemRandomNumberGenerator` would make a call per 8 bytes).
enum SystemRandom {
    private static let source = Result { try OpenFile.reading(RawPath("/dev/urandom")) }

    static func fill(_ buffer: UnsafeMutableRawBufferPointer) throws {
        guard try source.get().readFully(into: buffer) == buffer.count else {
            throw TigClientError.system(operation: "read enough from", path: "/dev/urandom", errno: EIO)
        }
    }
}
