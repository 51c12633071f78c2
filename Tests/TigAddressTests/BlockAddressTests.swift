import Testing
@testable import TigAddress

@Suite struct BlockAddressTests {
    let hex = "181210f8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3b"

    @Test func parsesAndFormatsLowercaseHex() throws {
        let address = try #require(BlockAddress(hex: hex))
        #expect(address.hex == hex)
        #expect(address.path == "/\(hex).tig")
        #expect(address.fileName == "\(hex).tig")
        #expect(BlockAddress(path: "/\(hex).tig") == address)
        #expect(BlockAddress(fileName: Array("\(hex).tig".utf8)) == address)
    }

    @Test(arguments: [
        "181210F8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3b",  // uppercase
        "181210f8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3",  // 63 digits
        "181210f8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3bb",  // 65 digits
        "181210f8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3g",  // not hex
        "",
    ])
    func refusesAnythingButSixtyFourLowercaseHexDigits(_ text: String) {
        #expect(BlockAddress(hex: text) == nil)
        #expect(BlockAddress(path: "/\(text).tig") == nil)
    }

    @Test func refusesPathsWithoutTheExactShape() {
        #expect(BlockAddress(path: "\(hex).tig") == nil)
        #expect(BlockAddress(path: "/\(hex).tag") == nil)
        #expect(BlockAddress(path: "/\(hex)") == nil)
        #expect(BlockAddress(path: "//\(hex).tig") == nil)
    }

    @Test func sha256MatchesKnownVectors() {
        #expect(SHA256Hasher.address(of: Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256Hasher.address(of: Array("123\n".utf8)).hex == hex)
        #expect(SHA256Hasher.address(of: [UInt8]()).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func hashingInPartsEqualsHashingWhole() {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let hasher = SHA256Hasher()
        for chunk in stride(from: 0, to: bytes.count, by: 4093) {
            hasher.update(bytes[chunk..<min(chunk + 4093, bytes.count)])
        }
        #expect(hasher.finish() == SHA256Hasher.address(of: bytes))
    }

    @Test func randomAddressesDiffer() {
        #expect(BlockAddress.random() != BlockAddress.random())
    }

    @Test func bytesRoundTrip() throws {
        let address = try #require(BlockAddress(hex: hex))
        #expect(BlockAddress(digest: address.bytes) == address)
    }
}
