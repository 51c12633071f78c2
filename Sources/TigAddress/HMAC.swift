import COpenSSLCrypto

/// HMAC-SHA-256 (RFC 2104) over `SHA256Hasher`, for the proof that a request
/// comes from a pod that knows the cluster secret. Not OpenSSL's `HMAC()`:
/// in OpenSSL 3 that fetches the MAC and digest from the providers on every
/// call, which cost about 10 µs on each side of every peer request here.
public enum HMACSHA256 {
    static let blockSize = 64

    public static func code(for message: [UInt8], key: [UInt8]) -> [UInt8] {
        var padded = key.count > blockSize ? SHA256Hasher.digest(of: key) : key
        padded += [UInt8](repeating: 0, count: blockSize - padded.count)
        let inner = SHA256Hasher()
        inner.update(padded.map { $0 ^ 0x36 })
        inner.update(message)
        let outer = SHA256Hasher()
        outer.update(padded.map { $0 ^ 0x5c })
        outer.update(inner.finishDigest())
        return outer.finishDigest()
    }

    /// Compares in time that does not depend on where they differ, so a
    /// forger learns nothing from how long a refusal takes.
    public static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.withUnsafeBytes { lhs in
            rhs.withUnsafeBytes { rhs in CRYPTO_memcmp(lhs.baseAddress, rhs.baseAddress, lhs.count) == 0 }
        }
    }
}
