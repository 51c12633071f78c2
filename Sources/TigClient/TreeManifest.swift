import TigAddress

/// One name in a directory.
public struct TreeEntry: Sendable, Equatable {
    public enum Content: Sendable, Equatable {
        /// A file: its file block (see `FileBlock`) and the owner's
        /// executable bit, the only mode bit a tree keeps.
        case file(BlockAddress, executable: Bool)
        /// A subdirectory: its manifest.
        case directory(BlockAddress)
        case symlink(target: [UInt8])
    }

    /// Raw bytes: names need not be UTF-8.
    public let name: [UInt8]
    public let content: Content
    /// Files: bytes. Directories: bytes of all files below. Symlinks: bytes
    /// of the target.
    public let size: Int64

    public init(name: [UInt8], content: Content, size: Int64) {
        self.name = name
        self.content = content
        self.size = size
    }
}

/// A directory as a block: its entries, in a canonical text form, so equal
/// directories are equal bytes and share one address. Version 1:
///
///     tig-tree 1
///     <kind> <mode> <size> <reference> <name>      one line per entry
///
/// - kind `file`, `dir` or `link`; mode `644` or `755` for files, `755` for
///   directories, `777` for links (only the executable bit is kept);
/// - size in decimal without leading zeros (see `TreeEntry.size`);
/// - reference: the file block's or the subdirectory manifest's path, or
///   the link target, escaped like names;
/// - name: escaped, so spaces, newlines and any bytes are unambiguous: every
///   byte outside printable ASCII (`!` to `~`), and `%` itself, is `%XX` with
///   uppercase hex; nothing else is escaped.
///
/// Entries are sorted by the raw bytes of their names, compared unsigned, and
/// every line ends with a newline. The decoder accepts exactly what the
/// encoder writes, and refuses names that could escape the directory when
/// pulled (`.`, `..`, anything with `/` or NUL).
public struct TreeManifest: Sendable, Equatable {
    public static let header = Array("tig-tree 1\n".utf8)

    /// Sorted by name.
    public let entries: [TreeEntry]

    /// Names must be distinct (as they are in a directory).
    public init(entries: [TreeEntry]) {
        self.entries = entries.sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }

    /// Bytes of every file in this directory and below (symlinks excluded).
    public var size: Int64 {
        entries.reduce(0) { total, entry in
            if case .symlink = entry.content { return total }
            return total + entry.size
        }
    }

    public var encoded: [UInt8] {
        var text = Self.header
        for entry in entries {
            let (kind, mode, reference): (String, String, String)
            switch entry.content {
            case .file(let block, let executable): (kind, mode, reference) = ("file", executable ? "755" : "644", block.path)
            case .directory(let manifest): (kind, mode, reference) = ("dir", "755", manifest.path)
            case .symlink(let target): (kind, mode, reference) = ("link", "777", Self.escape(target))
            }
            text += "\(kind) \(mode) \(entry.size) \(reference) \(Self.escape(entry.name))\n".utf8
        }
        return text
    }

    /// True when `bytes` start like a manifest (they may still be invalid).
    public static func hasHeader<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        bytes.starts(with: header)
    }

    public init<Bytes: BidirectionalCollection<UInt8>>(decoding bytes: Bytes) throws {
        guard Self.hasHeader(bytes) else { throw Self.malformed("it does not start with \"tig-tree 1\"") }
        let body = bytes.dropFirst(Self.header.count)
        guard body.isEmpty || body.last == UInt8(ascii: "\n") else { throw Self.malformed("the last line has no newline") }
        var entries: [TreeEntry] = []
        var total: Int64 = 0
        for line in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
            let entry = try Self.decodeEntry(line)
            if let previous = entries.last, !previous.name.lexicographicallyPrecedes(entry.name) {
                throw Self.malformed("entries are not sorted by name or a name repeats")
            }
            if case .symlink = entry.content {} else {
                let (sum, overflow) = total.addingReportingOverflow(entry.size)
                guard !overflow else { throw Self.malformed("sizes overflow") }
                total = sum
            }
            entries.append(entry)
        }
        self.entries = entries
    }

    private static func decodeEntry<Line: Collection<UInt8>>(_ line: Line) throws -> TreeEntry {
        let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false).map { Array($0) }
        guard fields.count == 5 else { throw malformed("an entry does not have five fields") }
        guard let size = decimal(fields[2]) else { throw malformed("a size is not a canonical decimal number") }
        guard let name = unescape(fields[4]), isSafeName(name) else { throw malformed("a name is not a valid escaped file name") }
        let content: TreeEntry.Content
        switch (String(decoding: fields[0], as: UTF8.self), String(decoding: fields[1], as: UTF8.self)) {
        case ("file", let mode) where mode == "644" || mode == "755":
            guard let block = BlockAddress(path: fields[3]) else { throw malformed("a file's reference is not a block path") }
            content = .file(block, executable: mode == "755")
        case ("dir", "755"):
            guard let manifest = BlockAddress(path: fields[3]) else { throw malformed("a directory's reference is not a block path") }
            content = .directory(manifest)
        case ("link", "777"):
            guard let target = unescape(fields[3]), !target.isEmpty, !target.contains(0), Int64(target.count) == size else {
                throw malformed("a link target is not validly escaped or does not match its size")
            }
            content = .symlink(target: target)
        default:
            throw malformed("an entry has an unknown kind or a mode that kind cannot have")
        }
        return TreeEntry(name: name, content: content, size: size)
    }

    static func escape(_ bytes: [UInt8]) -> String {
        PercentEncoding.encode(bytes, keeping: PercentEncoding.isVisibleASCII)
    }

    private static func unescape(_ text: [UInt8]) -> [UInt8]? {
        PercentEncoding.decodeCanonical(text, keeping: PercentEncoding.isVisibleASCII)
    }

    private static func isSafeName(_ name: [UInt8]) -> Bool {
        !name.isEmpty && name != Array(".".utf8) && name != Array("..".utf8)
            && !name.contains(UInt8(ascii: "/")) && !name.contains(0)
    }

    private static func decimal(_ digits: [UInt8]) -> Int64? {
        guard let first = digits.first, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              first != UInt8(ascii: "0") || digits.count == 1 else { return nil }
        return Int64(String(decoding: digits, as: UTF8.self))
    }

    private static func malformed(_ reason: String) -> TigClientError {
        .malformed(what: "tree manifest", reason: reason)
    }
}
