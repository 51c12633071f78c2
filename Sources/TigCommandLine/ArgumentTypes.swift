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

/// A size flag: bytes with an optional binary suffix (`K`/`KiB`, `M`/`MiB`,
/// `G`/`GiB`), e.g. `128MiB`; never negative.
public struct ByteSizeArgument: ExpressibleByArgument, Sendable, Equatable {
    public let bytes: Int

    public init(bytes: Int) {
        self.bytes = bytes
    }

    public init?(argument: String) {
        let units: [(suffix: String, shift: Int)] = [
            ("KiB", 10), ("MiB", 20), ("GiB", 30), ("K", 10), ("M", 20), ("G", 30), ("B", 0), ("", 0),
        ]
        for unit in units where argument.hasSuffix(unit.suffix) {
            guard let value = Int(argument.dropLast(unit.suffix.count)), value >= 0,
                  value <= Int.max >> unit.shift else { continue }
            self.bytes = value << unit.shift
            return
        }
        return nil
    }

    public var defaultValueDescription: String {
        for (suffix, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] where bytes % (1 << shift) == 0 {
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
