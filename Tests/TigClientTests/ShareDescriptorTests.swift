import Testing
import TigAddress
@testable import TigClient

@Suite struct ShareDescriptorTests {
    let descriptor = ShareDescriptor(
        sha256: SHA256Hasher.address(of: Array("original".utf8)),
        size: 1234,
        shares: [
            .init(server: "http://a:7777", list: SHA256Hasher.address(of: [1])),
            .init(server: "https://b.example", list: SHA256Hasher.address(of: [2])),
        ]
    )

    @Test func theFormatIsExactlyAsDocumented() throws {
        let expected = """
            tig-xor 1
            sha256 \(descriptor.sha256.hex)
            size 1234
            share http://a:7777 \(descriptor.shares[0].list.path)
            share https://b.example \(descriptor.shares[1].list.path)

            """
        #expect(descriptor.encoded == expected)
        #expect(try ShareDescriptor(decoding: Array(expected.utf8)) == descriptor)
    }

    @Test func malformedDescriptorsAreRefused() {
        let lines: [String] = descriptor.encoded.split(separator: "\n").map(String.init)
        func text(_ lines: [String]) -> String { lines.joined(separator: "\n") + "\n" }
        var broken: [String] = []
        broken.append(text(Array(lines.dropLast())))  // one share only
        broken.append(lines.joined(separator: "\n"))  // no final newline
        broken.append(text(["tig-xor 2"] + lines.dropFirst()))
        broken.append(text([lines[0], "sha256 xyz"] + lines.dropFirst(2)))
        broken.append(text(Array(lines.prefix(2)) + ["size -1"] + lines.dropFirst(3)))
        broken.append(text(lines + ["share http://c /nope.tig"]))
        for text in broken {
            #expect(throws: TigClientError.self) { try ShareDescriptor(decoding: Array(text.utf8)) }
        }
    }
}
