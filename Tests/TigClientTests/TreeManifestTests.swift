import Foundation
import Testing
import TigAddress
@testable import TigClient

@Suite struct TreeManifestTests {
    let fileBlock = SHA256Hasher.address(of: Array("file".utf8))
    let subtree = SHA256Hasher.address(of: Array("dir".utf8))

    @Test func theFormatIsExactlyAsDocumented() {
        let manifest = TreeManifest(entries: [
            TreeEntry(name: Array("run me.sh".utf8), content: .file(fileBlock, executable: true), size: 12),
            TreeEntry(name: Array("docs".utf8), content: .directory(subtree), size: 3000),
            TreeEntry(name: Array("latest".utf8), content: .symlink(target: Array("v 1/%x".utf8)), size: 6),
        ])
        let expected = """
            tig-tree 1
            dir 755 3000 \(subtree.path) docs
            link 777 6 v%201/%25x latest
            file 755 12 \(fileBlock.path) run%20me.sh

            """
        #expect(String(decoding: manifest.encoded, as: UTF8.self) == expected)
        #expect(manifest.size == 3012)
    }

    @Test func weirdNamesRoundTrip() throws {
        let names: [[UInt8]] = [
            Array("with space".utf8), Array("new\nline".utf8), Array("tab\there".utf8), Array("100%".utf8),
            Array("ünïcødé ☭ 雲".utf8), [0xFF, 0xFE, 0x80], Array("back\\slash".utf8), Array("-".utf8),
            Array("...".utf8), Array("\r".utf8),
        ]
        let entries = names.enumerated().map { index, name in
            TreeEntry(name: name, content: .file(fileBlock, executable: index.isMultiple(of: 2)), size: Int64(index))
        }
        let target = Array("../a b\n/☭".utf8)
        let link = TreeEntry(name: Array("link".utf8), content: .symlink(target: target), size: Int64(target.count))
        let manifest = TreeManifest(entries: entries + [link])
        let decoded = try TreeManifest(decoding: manifest.encoded)
        #expect(decoded == manifest)
        #expect(Set(decoded.entries.map(\.name)) == Set(names + [Array("link".utf8)]))
        #expect(!manifest.encoded.contains(0x80))
    }

    @Test func entryOrderDoesNotChangeTheBytes() {
        let entries = (0..<20).map { TreeEntry(name: Array("f\($0)".utf8), content: .file(fileBlock, executable: false), size: 1) }
        #expect(TreeManifest(entries: entries).encoded == TreeManifest(entries: entries.reversed()).encoded)
    }

    @Test func anEmptyDirectoryIsJustTheHeader() throws {
        #expect(TreeManifest(entries: []).encoded == TreeManifest.header)
        #expect(try TreeManifest(decoding: TreeManifest.header).entries.isEmpty)
    }

    @Test(arguments: [
        "tig-tree 2\n",
        "tig-tree 1\nfile 644 1 /x.tig a\n",
        "tig-tree 1\nfile 644 1 PATH a",
        "tig-tree 1\nfile 600 1 PATH a\n",
        "tig-tree 1\ndir 644 1 PATH a\n",
        "tig-tree 1\nfile 644 01 PATH a\n",
        "tig-tree 1\nfile 644 -1 PATH a\n",
        "tig-tree 1\nfile 644 1 PATH a b\n",
        "tig-tree 1\nfile 644 1 PATH  a\n",
        "tig-tree 1\nfile 644 1 PATH ..\n",
        "tig-tree 1\nfile 644 1 PATH .\n",
        "tig-tree 1\nfile 644 1 PATH a%2Fb\n",
        "tig-tree 1\nfile 644 1 PATH a%00\n",
        "tig-tree 1\nfile 644 1 PATH a%0a\n",
        "tig-tree 1\nfile 644 1 PATH %41\n",
        "tig-tree 1\nfile 644 1 PATH a%2\n",
        "tig-tree 1\nfile 644 1 PATH b\nfile 644 1 PATH a\n",
        "tig-tree 1\nfile 644 1 PATH a\nfile 644 1 PATH a\n",
        "tig-tree 1\nlink 777 2 abc a\n",
        "tig-tree 1\nfifo 644 1 PATH a\n",
        "tig-tree 1\nfile 644 99999999999999999999 PATH a\n",
        "tig-tree 1\n\n",
    ])
    func malformedManifestsAreRefused(_ template: String) {
        let text = template.replacingOccurrences(of: "PATH", with: fileBlock.path)
        #expect(throws: TigClientError.self) { try TreeManifest(decoding: Array(text.utf8)) }
    }
}
