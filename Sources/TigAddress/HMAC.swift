import COpenSSLCrypto

/// HMAC-SHA-256 over OpenSSL's libcrypto, for the proof that a request
/// comes from a pod that knows the cluster secret.
public enum HMACSHA256 {
    public static func code(for message: [UInt8], key: [UInt8]) -> [UInt8] {
        var code = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let done = key.withUnsafeBytes { key in
            message.withUnsafeBytes { message in
                HMAC(EVP_sha256(), key.baseAddress, Int32(key.count), message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count, &code, &length)
            }
        }
        guard done != nil else { fatalError("libcrypto cannot compute HMAC-SHA-256") }
        return Array(code.prefix(Int(length)))
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
