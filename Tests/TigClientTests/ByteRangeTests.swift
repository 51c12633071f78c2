import Testing
@testable import TigClient

@Suite struct ByteRangeTests {
    @Test func parsesWhatCurlAndHTTPSpell() {
        #expect(ByteRange("0-9") == .from(0, through: 9))
        #expect(ByteRange("5-") == .from(5, through: nil))
        #expect(ByteRange("-3") == .last(3))
        for bad in ["", "-", "9-0", "a-b", "1-2-3", "-0", " 1-2", "+1-2", "١-٢"] {
            #expect(ByteRange(bad) == nil, "\(bad)")
        }
    }

    @Test func resolvesAgainstASize() {
        #expect(ByteRange("0-9")?.resolved(size: 100) == 0..<10)
        #expect(ByteRange("90-200")?.resolved(size: 100) == 90..<100)
        #expect(ByteRange("-30")?.resolved(size: 10) == 0..<10)
        #expect(ByteRange("100-")?.resolved(size: 100) == nil)
        #expect(ByteRange("-1")?.resolved(size: 0) == nil)
        #expect(ByteRange("5-")?.header == "bytes=5-")
    }
}
