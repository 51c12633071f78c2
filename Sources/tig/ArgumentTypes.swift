import ArgumentParser
import Logging
import TigStore

/// A duration flag: a number and a unit, `ms`, `s`, `m` or `h` (`250ms`,
/// `2s`, `10m`, `1.5h`).
struct DurationArgument: ExpressibleByArgument, Sendable, Equatable {
    let duration: Duration

    init(_ duration: Duration) {
        self.duration = duration
    }

    init?(argument: String) {
        let units: [(suffix: String, nanoseconds: Double)] = [("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        for unit in units where argument.hasSuffix(unit.suffix) {
            guard let value = Double(argument.dropLast(unit.suffix.count)), value >= 0, value.isFinite else { return nil }
            self.duration = .nanoseconds(Int64(value * unit.nanoseconds))
            return
        }
        return nil
    }

    var defaultValueDescription: String {
        let nanoseconds = duration.nanoseconds
        if nanoseconds == 0 { return "0s" }
        if nanoseconds % 3_600_000_000_000 == 0 { return "\(nanoseconds / 3_600_000_000_000)h" }
        if nanoseconds % 60_000_000_000 == 0 { return "\(nanoseconds / 60_000_000_000)m" }
        if nanoseconds % 1_000_000_000 == 0 { return "\(nanoseconds / 1_000_000_000)s" }
        return "\(nanoseconds / 1_000_000)ms"
    }
}

/// A size flag: bytes with an optional binary suffix (`K`/`KiB`, `M`/`MiB`,
/// `G`/`GiB`), e.g. `128MiB`.
struct ByteSizeArgument: ExpressibleByArgument, Sendable, Equatable {
    let bytes: Int

    init(bytes: Int) {
        self.bytes = bytes
    }

    init?(argument: String) {
        let units: [(suffix: String, shift: Int)] = [
            ("KiB", 10), ("MiB", 20), ("GiB", 30), ("K", 10), ("M", 20), ("G", 30), ("B", 0), ("", 0),
        ]
        for unit in units where argument.hasSuffix(unit.suffix) {
            guard let value = Int(argument.dropLast(unit.suffix.count)), value > 0,
                  value <= Int.max >> unit.shift else { continue }
            self.bytes = value << unit.shift
            return
        }
        return nil
    }

    var defaultValueDescription: String {
        for (suffix, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] where bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(suffix)"
        }
        return "\(bytes)"
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
