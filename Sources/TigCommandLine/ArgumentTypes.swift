import ArgumentParser
import Logging

/// A duration flag (`250ms`, `2s`, `10m`, `1.5h`); never negative.
public struct DurationArgument: ExpressibleByArgument, Sendable, Equatable {
    public let duration: Duration

    public init(_ duration: Duration) {
        self.duration = duration
    }

    public init?(argument: String) {
        guard let duration = DurationText.parse(argument), duration >= .zero else { return nil }
        self.duration = duration
    }

    public var defaultValueDescription: String {
        DurationText.format(duration)
    }
}

/// A size flag, in Kubernetes quantity style: bytes with an optional
/// binary suffix (`Ki`, `Mi`, `Gi`, `Ti`, or `KiB`…`TiB`) or decimal one
/// (`k`, `M`, `G`, `T`, or `kB`…`TB`), e.g. `256Mi`, `1Gi`, `500M`; a whole
/// number, never negative.
public struct ByteSizeArgument: ExpressibleByArgument, Sendable, Equatable {
    public let bytes: Int

    public init(bytes: Int) {
        self.bytes = bytes
    }

    public init?(argument: String) {
        let digits = argument.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let value = Int(digits),
              let multiplier = Self.multipliers[String(argument.dropFirst(digits.count))]
        else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return nil }
        self.bytes = bytes
    }

    private static let multipliers: [String: Int] = {
        var table = ["": 1, "B": 1]
        for (index, prefix) in ["K", "M", "G", "T"].enumerated() {
            let binary = 1 << (10 * (index + 1))
            var decimal = 1
            for _ in 0...index { decimal *= 1000 }
            table[prefix + "i"] = binary
            table[prefix + "iB"] = binary
            let decimalPrefix = prefix == "K" ? "k" : prefix
            table[decimalPrefix] = decimal
            table[decimalPrefix + "B"] = decimal
        }
        return table
    }()

    public var defaultValueDescription: String {
        for (suffix, shift) in [("Gi", 30), ("Mi", 20), ("Ki", 10)] where bytes != 0 && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(suffix)"
        }
        return "\(bytes)"
    }
}

/// `HOST:PORT`, where HOST may be a bracketed IPv6 address or empty.
public enum HostPort {
    public static func parse(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        var host = text[..<colon]
        if host.first == "[" && host.last == "]" { host = host.dropFirst().dropLast() }
        return (String(host), port)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
