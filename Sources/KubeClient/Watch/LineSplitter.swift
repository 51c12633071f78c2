/// Cuts a byte stream into newline-terminated lines (a watch stream sends
/// one JSON object per line, split across chunks anywhere).
struct LineSplitter {
    private var pending: [UInt8] = []

    /// Returns the lines completed by `chunk`, without their newline; empty lines are skipped.
    mutating func append(_ chunk: [UInt8]) -> [[UInt8]] {
        pending.append(contentsOf: chunk)
        var lines: [[UInt8]] = []
        var start = pending.startIndex
        while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if newline > start { lines.append(Array(pending[start..<newline])) }
            start = newline + 1
        }
        pending.removeSubrange(..<start)
        return lines
    }
}
