import Testing
import TigAddress
@testable import TigClient

@Suite struct KeepAliveListTests {
    @Test func listsSkipBlanksAndComments() throws {
        let first = SHA256Hasher.address(of: [1])
        let second = SHA256Hasher.address(of: [2])
        let text = "# trees to keep\n\(first.path)\n\n  \(second.path)\r\n\t\n"
        #expect(try KeepAlive.parseList(Array(text.utf8)) == [first, second])
        #expect(try KeepAlive.parseList([]).isEmpty)
    }

    @Test func aBadLineIsReportedByNumber() {
        let text = "\(SHA256Hasher.address(of: [1]).path)\nnot a path\n"
        #expect(throws: TigClientError.invalidArgument("line 2 of the list is not a block path /<64 hex>.tig")) {
            try KeepAlive.parseList(Array(text.utf8))
        }
    }
}
