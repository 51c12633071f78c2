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
    public static func lines(of tree: StoredTree) -> [String] {
        var lines: [String] = []
        tree.walk { path, entry in
            let name = display(path.bytes)
            switch entry.content {
            case .directory: lines.append("drwxr-xr-x \(entry.size) \(name)/")
            case .file(_, let executable): lines.append("\(executable ? "-rwxr-xr-x" : "-rw-r--r--") \(entry.size) \(name)")
            case .symlink(let target): lines.append("lrwxrwxrwx \(entry.size) \(name) -> \(display(target))")
            }
        }
        return lines
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
