import NIOHTTP1
import Testing
import TigAddress
@testable import TigHTTP
import TigStore

@Suite struct ReadConditionsTests {
    static let address = BlockAddress(hex: "181210f8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3b")!
    let content = ReadValidators(kind: .content, address: Self.address, retentionSeconds: 600)
    let slot = ReadValidators(kind: .slot, address: Self.address, retentionSeconds: 600)
    var etag: String { "\"\(Self.address.hex)\"" }

    func outcome(_ headers: [(String, String)], _ validators: ReadValidators, size: Int = 100, isGET: Bool = true)
        -> ReadConditions.Outcome {
        ReadConditions(HTTPHeaders(headers)).outcome(for: validators, size: size, isGET: isGET)
    }

    @Test func contentBlocksAreImmutableAndSlotsAreAskedAgain() {
        #expect(content.etag == etag)
        #expect(content.cacheControl == "public, max-age=600, immutable")
        #expect(slot.etag == nil)
        #expect(slot.cacheControl == "no-cache")
    }

    @Test func ifNoneMatchComparesWeaklyAndStarMatchesAnything() {
        #expect(outcome([("If-None-Match", etag)], content) == .notModified)
        #expect(outcome([("If-None-Match", "W/\(etag)")], content) == .notModified)
        #expect(outcome([("If-None-Match", "\"other\", \(etag)")], content) == .notModified)
        #expect(outcome([("If-None-Match", "\"other\""), ("If-None-Match", etag)], content) == .notModified)
        #expect(outcome([("If-None-Match", "\"other\"")], content) == .whole)
        #expect(outcome([("If-None-Match", Self.address.hex)], content) == .whole, "an unquoted tag is no tag")
        #expect(outcome([("If-None-Match", "*")], slot) == .notModified)
        #expect(outcome([("If-None-Match", etag)], slot) == .whole)
        #expect(outcome([("If-None-Match", etag)], content, isGET: false) == .notModified)
    }

    @Test func ifNoneMatchComesBeforeRange() {
        #expect(outcome([("If-None-Match", etag), ("Range", "bytes=0-9")], content) == .notModified)
    }

    @Test(arguments: [
        ("bytes=0-9", 0..<10), ("bytes=90-", 90..<100), ("bytes=-10", 90..<100), ("bytes=-1000", 0..<100),
        ("bytes=50-5000", 50..<100), ("bytes=99-99", 99..<100), ("BYTES=1-2", 1..<3), (" bytes=1-2 ", 1..<3),
        ("bytes=0-99999999999999999999999", 0..<100),
    ])
    func oneRangeIsAPart(_ range: String, _ part: Range<Int>) {
        #expect(outcome([("Range", range)], content) == .part(part))
        #expect(outcome([("Range", range)], slot) == .part(part))
    }

    @Test(arguments: ["bytes=100-", "bytes=100-200", "bytes=-0", "bytes=99999999999999999999999-"])
    func aRangePastTheEndIsUnsatisfiable(_ range: String) {
        #expect(outcome([("Range", range)], content) == .unsatisfiable)
    }

    @Test func anEmptyBodyHasNoSatisfiableRange() {
        #expect(outcome([("Range", "bytes=0-")], content, size: 0) == .unsatisfiable)
        #expect(outcome([("Range", "bytes=-5")], content, size: 0) == .unsatisfiable)
    }

    @Test(arguments: ["bytes=0-1,5-6", "bytes=5-1", "items=0-1", "bytes=a-b", "bytes=", "bytes=1", "bytes=--1", "bytes=+1-2", "0-1"])
    func otherRangesAnswerTheWholeBody(_ range: String) {
        #expect(outcome([("Range", range)], content) == .whole)
    }

    @Test func rangesApplyToGetOnly() {
        #expect(outcome([("Range", "bytes=0-9")], content, isGET: false) == .whole)
    }

    @Test func ifRangeNeedsTheCurrentStrongTag() {
        #expect(outcome([("Range", "bytes=0-9"), ("If-Range", etag)], content) == .part(0..<10))
        #expect(outcome([("Range", "bytes=0-9"), ("If-Range", "W/\(etag)")], content) == .whole)
        #expect(outcome([("Range", "bytes=0-9"), ("If-Range", "\"other\"")], content) == .whole)
        #expect(outcome([("Range", "bytes=0-9"), ("If-Range", "Sun, 06 Dec 2026 22:00:00 GMT")], content) == .whole)
        #expect(outcome([("Range", "bytes=0-9"), ("If-Range", etag)], slot) == .whole, "a slot has no tag to match")
    }

    @Test func entityTagListsParseAsTheRFCWritesThem() {
        #expect(ReadConditions.entityTags(in: "\"a\", W/\"b\",\"c,d\"") == ["\"a\"", "\"b\"", "\"c,d\""])
        #expect(ReadConditions.entityTags(in: "\"a\", junk, \"b\"") == ["\"a\""])
        #expect(ReadConditions.entityTags(in: "\"unclosed") == [])
    }
}

@Suite struct RedactionTests {
    @Test(arguments: [
        ("/?apikey=s3cret", "/?apikey=REDACTED"),
        ("/x.tig?append=1&apikey=s3cret&format=*", "/x.tig?append=1&apikey=REDACTED&format=*"),
        ("/?api%6Bey=s3cret", "/?api%6Bey=REDACTED"),
        ("/?apikey", "/?apikey=REDACTED"),
        ("/?apikey=a&apikey=b", "/?apikey=REDACTED&apikey=REDACTED"),
        ("/?notapikey=visible", "/?notapikey=visible"),
        ("/plain", "/plain"),
    ])
    func theKeyNeverReachesALogLine(_ uri: String, _ logged: String) {
        #expect(QueryParameters.redacted(uri) == logged)
    }
}
