/// Durations as every tig program writes them, in flags and in the
/// operator's config: a number and a unit, `ms`, `s`, `m` or `h` (`250ms`,
/// `15s`, `1.5h`), at most ten years (`87600h`).
public enum DurationText {
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
        let nanoseconds = (number * scale * 1e9).rounded()
        guard nanoseconds.magnitude <= Double(maximum.nanosecondCount) else { return nil }
        return .nanoseconds(Int64(nanoseconds))
    }

    /// The longest duration any tig setting takes: ten years. Longer ones
    /// are mistakes, and near `Int64.max` nanoseconds a deadline computed
    /// from them would overflow.
    public static let maximum = Duration.seconds(10 * 365 * 24 * 3600)

    /// The shortest exact form: `10m`, `250ms`, `0s`.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        for (unit, size) in [("h", Int64(3_600_000_000_000)), ("m", 60_000_000_000), ("s", 1_000_000_000), ("ms", 1_000_000)]
        where nanoseconds != 0 && nanoseconds % size == 0 {
            return "\(nanoseconds / size)\(unit)"
        }
        return nanoseconds == 0 ? "0s" : "\(Double(nanoseconds) / 1e6)ms"
    }
}

extension Duration {
    /// The duration in whole nanoseconds (it fits: `DurationText` bounds it).
    var nanosecondCount: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
