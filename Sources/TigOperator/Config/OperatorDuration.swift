/// Durations as the config and flags write them: a number and a unit,
/// `ms`, `s`, `m` or `h` (`250ms`, `15s`, `1.5h`), as DESIGN.md fixes for
/// every tig program.
public enum OperatorDuration {
    public static func parse(_ text: String) -> Duration? {
        let unitStart = text.firstIndex { $0.isLetter } ?? text.endIndex
        guard let number = Double(text[..<unitStart]), number.isFinite, !text[..<unitStart].hasPrefix("+") else {
            return nil
        }
        let scale: Double
        switch text[unitStart...] {
        case "ms": scale = 0.001
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        default: return nil
        }
        return .milliseconds(Int64((number * scale * 1000).rounded()))
    }
}
