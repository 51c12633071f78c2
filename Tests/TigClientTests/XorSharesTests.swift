import NIOCore
import Testing
@testable import TigClient

@Suite struct XorSharesTests {
    let plaintext = ByteBuffer(string: String(repeating: "attack at dawn; ", count: 8192))

    @Test(arguments: [2, 3, 5])
    func allSharesTogetherGiveTheDataBack(_ count: Int) throws {
        let shares = try XorShares.split(plaintext, into: count)
        #expect(shares.count == count)
        #expect(shares.allSatisfy { $0.readableBytes == plaintext.readableBytes })
        #expect(XorShares.combine(shares) == plaintext)
    }

    @Test func fewerThanAllSharesAreNoise() throws {
        let shares = try XorShares.split(plaintext, into: 3)
        // Any n − 1 shares (and their XOR) look nothing like the data.
        for missing in shares.indices {
            var partial = shares
            partial.remove(at: missing)
            let combined = XorShares.combine(partial)
            #expect(combined != plaintext)
            #expect(Self.looksUniform(combined))
        }
        for share in shares {
            #expect(Self.looksUniform(share))
            #expect(!String(buffer: share).contains("attack"))
        }
    }

    @Test func padsAreFreshEveryTime() throws {
        let first = try XorShares.split(plaintext, into: 2)
        let second = try XorShares.split(plaintext, into: 2)
        #expect(first[0] != second[0])
        #expect(first[1] != second[1])
    }

    @Test func emptyDataSplitsIntoEmptyShares() throws {
        let shares = try XorShares.split(ByteBuffer(), into: 3)
        #expect(shares.allSatisfy { $0.readableBytes == 0 })
    }

    @Test func xorHandlesLengthsThatAreNotWordMultiples() {
        var target: [UInt8] = Array(0..<13)
        let source: [UInt8] = Array(repeating: 0xFF, count: 13)
        target.withUnsafeMutableBytes { target in source.withUnsafeBytes { XorShares.xor(into: target, $0) } }
        #expect(target == (0..<13).map { ~UInt8($0) })
    }

    /// A chi-square test of the byte histogram against the uniform
    /// distribution (255 degrees of freedom; the bound is beyond p = 10⁻⁶).
    static func looksUniform(_ bytes: ByteBuffer) -> Bool {
        var counts = [Int](repeating: 0, count: 256)
        for byte in bytes.readableBytesView { counts[Int(byte)] += 1 }
        let expected = Double(bytes.readableBytes) / 256
        let chiSquare = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        return chiSquare < 400
    }
}
