/// Durations as every tig program writes them, in flags and in the
/// operator's config, in Go's `time.ParseDuration` syntax: one or more
/// numbers with a unit, `ns`, `us` (or `µs`), `ms`, `s`, `m` or `h` (`250ms`,
/// `15s`, `1.5h`, `1h30m`), an optional leading `-`, or `0`; at most ten
/// years (`87600h`).
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        var rest = Substring(text)
        let sign: Double = rest.first == "-" ? -1 : 1
        if sign < 0 { rest = rest.dropFirst() }
        if rest == "0" { return .zero }
        guard !rest.isEmpty else { return nil }
        var nanoseconds = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            rest = rest.dropFirst(unit.count)
            // Only digits and one dot reach Double: no exponents, no "inf".
            guard number.contains(where: \.isNumber), number.filter({ $0 == "." }).count <= 1,
                  let value = Double(number.hasPrefix(".") ? "0" + number : String(number)),
                  let scale = unitNanoseconds[String(unit)]
            else { return nil }
            nanoseconds += value * scale
            guard nanoseconds <= Double(maximum.nanosecondCount) else { return nil }
        }
        return .nanoseconds(Int64((sign * nanoseconds).rounded()))
    }

    private static let unitNanoseconds: [String: Double] = [
        "ns": 1, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9,
    ]

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
