/// A byte range as `curl -r` and HTTP spell it: `a-b` (both included),
/// `a-` (from a to the end) or `-n` (the last n bytes).
public enum ByteRange: Sendable, Equatable {
    case from(Int64, through: Int64?)
    case last(Int64)

    public init?(_ text: String) {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let first = parts[0].isEmpty ? nil : Self.number(parts[0])
        let second = parts[1].isEmpty ? nil : Self.number(parts[1])
        switch (parts[0].isEmpty, parts[1].isEmpty) {
        case (true, false):
            guard let count = second, count > 0 else { return nil }
            self = .last(count)
        case (false, _):
            guard let start = first else { return nil }
            if !parts[1].isEmpty {
                guard let end = second, end >= start else { return nil }
            }
            self = .from(start, through: second)
        default:
            return nil
        }
    }

    private static func number(_ digits: Substring) -> Int64? {
        guard digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int64(digits)
    }

    /// The `Range` header value.
    public var header: String {
        switch self {
        case .from(let start, let end): "bytes=\(start)-\(end.map(String.init) ?? "")"
        case .last(let count): "bytes=-\(count)"
        }
    }

    /// The offsets it covers in `size` bytes; nil when it starts past the end
    /// (HTTP's 416). An end past the end is cut to it.
    public func resolved(size: Int64) -> Range<Int64>? {
        switch self {
        case .from(let start, let end):
            guard start < size else { return nil }
            return start..<min((end ?? size - 1) + 1, size)
        case .last(let count):
            guard size > 0 else { return nil }
            return max(size - count, 0)..<size
        }
    }
}
