import Testing
import TigAddress
@testable import TigClient

@Suite struct FileBlockTests {
    @Test func chunkListsRoundTripAndAreBurstLists() throws {
        let chunks = (0..<5).map { SHA256Hasher.address(of: [UInt8($0)]) }
        let encoded = FileBlock.encode(chunks)
        #expect(String(decoding: encoded, as: UTF8.self) == chunks.map { $0.path + "\n" }.joined())
        #expect(try FileBlock.decode(encoded) == chunks)
        #expect(try FileBlock.decode([UInt8]()).isEmpty)
    }

    @Test(arguments: ["hello\n", "\n", "/abc.tig\n", String(repeating: "a", count: 64)])
    func otherBytesAreNotFileBlocks(_ text: String) {
        #expect(throws: TigClientError.self) { try FileBlock.decode(Array(text.utf8)) }
    }
}
