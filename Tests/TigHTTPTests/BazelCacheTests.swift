import Testing
import TigAddress
@testable import TigHTTP

@Suite struct BazelCacheTests {
    let hex = "181210f8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3b"
    var digest: BlockAddress { BlockAddress(hex: hex)! }

    @Test func theContentStoreIsTheContentAddress() throws {
        for uri in ["/cas/\(hex)", "/project/cas/\(hex)", "/a/b-c/v1.2_x/cas/\(hex)?apikey=k"] {
            let target = try RequestTarget(parsing: uri)
            #expect(target.route == .block(digest) && target.bazel == .contentStore, "\(uri)")
        }
    }

    @Test func actionResultsLiveApartFromBlocksAndPerInstance() throws {
        let plain = try RequestTarget(parsing: "/ac/\(hex)")
        let other = try RequestTarget(parsing: "/other/ac/\(hex)")
        #expect(plain.bazel == .actionCache && other.bazel == .actionCache)
        #expect(plain.route != .block(digest), "never the block or slot at the digest itself")
        #expect(plain.route != other.route, "instances are kept apart")
        #expect(plain.route == (try RequestTarget(parsing: "/ac/\(hex)?x=1")).route, "the same entry from any pod")
    }

    @Test func slotOperationsDoNotApplyToCacheEntries() throws {
        let query = try RequestTarget(parsing: "/ac/\(hex)?append=1&take=1&burst=1&setifnot=1&apikey=k&format=x*").query
        #expect(!query.append && !query.take && !query.burst && !query.setIfNot && query.format == nil)
        #expect(query.apiKey == "k")
    }

    @Test(arguments: [
        "/cas/\(String(repeating: "A", count: 64))", "/cas/\(String(repeating: "a", count: 63))", "/../cas/HEX", "/./cas/HEX",
        "/x//cas/HEX", "/%2e/cas/HEX", "/x y/cas/HEX", "/cache/HEX", "/cas/HEX/", "cas/HEX", "/acx/HEX",
        "/\(String(repeating: "i", count: 300))/cas/HEX",
    ])
    func refusesWhatIsNotABazelPath(_ uri: String) {
        let uri = uri.replacingOccurrences(of: "HEX", with: hex)
        #expect(throws: (any Error).self, "\(uri)") { try RequestTarget(parsing: uri) }
    }
}
