import Testing
@testable import TigClient

@Suite struct TreeListingTests {
    @Test func namesShowAsOneLineOfText() {
        #expect(TreeListing.display(Array("plain ünïcødé.txt".utf8)) == "plain ünïcødé.txt")
        #expect(TreeListing.display(Array("new\nline\\".utf8)) == "new\\x0Aline\\x5C")
        #expect(TreeListing.display([0x61, 0xFF, 0xC3, 0xBC]) == "a\\xFF\\xC3\\xBC")
    }
}
