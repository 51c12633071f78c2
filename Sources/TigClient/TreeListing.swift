/// `tig ls`: one line per entry, depth first, like `ls -l` without owners
/// and dates (a tree records neither):
///
///     drwxr-xr-x 1048576 src/
///     -rwxr-xr-x 4096 src/run.sh
///     lrwxrwxrwx 6 latest -> v1.2.3
///
/// Directory sizes are the bytes of all files below them. Names are shown
/// as text; control characters, backslashes and bytes that are not UTF-8 are
/// written `\xNN`, so every entry is exactly one line.
public enum TreeListing {
    /// One entry as listed: its kind, mode, size and displayed name.
    public struct Entry: Sendable {
        public enum Kind: String, Sendable { case directory, file, symlink }
        public let kind: Kind
        public let mode: String
        public let size: Int64
        public let path: String
        /// A symlink's target, displayed like names.
        public let target: String?
    }

    public static func entries(of tree: StoredTree) -> [Entry] {
        var entries: [Entry] = []
        tree.walk { path, entry in
            let name = display(path.bytes)
            switch entry.content {
            case .directory:
                entries.append(Entry(kind: .directory, mode: "drwxr-xr-x", size: entry.size, path: name, target: nil))
            case .file(_, let executable):
                entries.append(Entry(kind: .file, mode: executable ? "-rwxr-xr-x" : "-rw-r--r--", size: entry.size, path: name, target: nil))
            case .symlink(let target):
                entries.append(Entry(kind: .symlink, mode: "lrwxrwxrwx", size: entry.size, path: name, target: display(target)))
            }
        }
        return entries
    }

    public static func lines(of tree: StoredTree) -> [String] {
        entries(of: tree).map { entry in
            switch entry.kind {
            case .directory: "\(entry.mode) \(entry.size) \(entry.path)/"
            case .file: "\(entry.mode) \(entry.size) \(entry.path)"
            case .symlink: "\(entry.mode) \(entry.size) \(entry.path) -> \(entry.target ?? "")"
            }
        }
    }

    static func display(_ bytes: [UInt8]) -> String {
        let isText = String(validating: bytes, as: UTF8.self) != nil
        var shown: [UInt8] = []
        for byte in bytes {
            if byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "\\") || (byte >= 0x80 && !isText) {
                shown += "\\x".utf8 + PercentEncoding.hexDigits(byte)
            } else {
                shown.append(byte)
            }
        }
        return String(decoding: shown, as: UTF8.self)
    }
}
