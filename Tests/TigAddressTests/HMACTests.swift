import Testing
@testable import TigAddress

/// HMAC-SHA-256 against the test vectors of RFC 4231: a short key, a key
/// shorter than the hash, and one longer than the block (hashed first).
@Suite struct HMACTests {
    @Test(arguments: [
        (key: [UInt8](repeating: 0x0b, count: 20), message: "Hi There",
         code: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (key: Array("Jefe".utf8), message: "what do ya want for nothing?",
         code: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (key: [UInt8](repeating: 0xaa, count: 131), message: "Test Using Larger Than Block-Size Key - Hash Key First",
         code: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    ])
    func matchesRFC4231(_ vector: (key: [UInt8], message: String, code: String)) {
        let code = HMACSHA256.code(for: Array(vector.message.utf8), key: vector.key)
        // A code is 32 bytes, like a block address, which spells them in hex.
        #expect(BlockAddress(digest: code).hex == vector.code)
    }
}
