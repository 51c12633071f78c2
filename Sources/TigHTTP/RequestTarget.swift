import TigAddress
import TigStore

/// What a request path names.
public enum Route: Equatable, Sendable {
    /// `/`: the store itself (store a content block, or list).
    case store
    /// `/<h>.tig`
    case block(BlockAddress)
    case healthz
    case readyz
    case metrics
}

/// Why a request target was refused.
public enum TargetError: Error, Equatable, Sendable {
    /// Malformed: looks like a block path but is not one, uses
    /// percent-encoding, dot segments, uppercase hex… (400)
    case badForm
    /// Well formed but names nothing tig serves (404).
    case unknown
}

/// A request target split into its route and query parameters. Parsing never
/// touches the file system: only a validated 64-hex address ever becomes a
/// file name.
public struct RequestTarget: Equatable, Sendable {
    public let route: Route
    public let query: QueryParameters
    /// Set for Bazel remote-cache paths, whose route is the tig address
    /// they map to (see `BazelArea`).
    public let bazel: BazelArea?

    public static let maximumLength = 8192

    public init(parsing uri: String) throws(TargetError) {
        let utf8 = Substring(uri).utf8
        let queryStart = utf8.firstIndex(of: UInt8(ascii: "?"))
        let path = utf8[..<(queryStart ?? utf8.endIndex)]
        let query = queryStart.map { QueryParameters(parsing: Substring(utf8[utf8.index(after: $0)...])) } ?? QueryParameters()
        do {
            self.route = try Self.route(path)
            self.bazel = nil
            self.query = query
        } catch {
            // Only a path tig's own routes refuse can be a Bazel one (theirs
            // end in 64 hex digits, never in `.tig`): the common path pays nothing.
            guard let (address, area) = BazelArea.route(path) else { throw error }
            self.route = .block(address)
            self.bazel = area
            // A cache client only gets and puts whole entries: none of
            // tig's slot operations apply.
            self.query = QueryParameters(bazelKeeping: query)
        }
    }

    private static func route(_ path: Substring.UTF8View) throws(TargetError) -> Route {
        if path.count == BlockAddress.pathLength, let address = BlockAddress(path: path) {
            return .block(address)
        }
        switch String(Substring(path)) {
        case "/": return .store
        case "/healthz": return .healthz
        case "/readyz": return .readyz
        case "/metrics": return .metrics
        default: break
        }
        // Percent-encoding, dot segments, backslashes and block-like names that
        // fail validation are refused as malformed rather than merely unknown.
        let text = String(Substring(path))
        let suspicious = path.contains(UInt8(ascii: "%"))
            || path.contains(UInt8(ascii: "\\"))
            || path.first != UInt8(ascii: "/")
            || text.split(separator: "/", omittingEmptySubsequences: false).contains { $0 == "." || $0 == ".." }
            || text.hasSuffix(".tig")
            || text.dropFirst().prefix(64).allSatisfy(\.isHexDigit) && text.count > 64
        throw suspicious ? .badForm : .unknown
    }
}

/// The query parameters tig understands. Values are decoded as HTML forms,
/// Go's `url.ParseQuery` and common HTTP libraries encode them: `+` is a
/// space, and percent-escapes are decoded where valid (an invalid escape such
/// as `%s` stays literal); a literal `+` is sent as `%2B`.
public struct QueryParameters: Equatable, Sendable {
    public var format: String?
    public var contentType: String?
    public var apiKey: String?
    public var setIfNot = false
    public var append = false
    public var take = false
    public var burst = false
    /// `chtimes=0` turns off the timer reset of a read.
    public var touch = true

    public init() {}

    /// Only what means the same to a Bazel cache entry: the key.
    init(bazelKeeping query: QueryParameters) {
        apiKey = query.apiKey
    }

    public init(parsing query: Substring) {
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring
            let rawValue: Substring
            if let equals = pair.firstIndex(of: "=") {
                name = pair[..<equals]
                rawValue = pair[pair.index(after: equals)...]
            } else {
                name = pair
                rawValue = ""
            }
            let value = Self.percentDecoded(rawValue)
            switch Self.percentDecoded(name) {
            case "format": format = value
            case "Content-Type": contentType = value
            case "apikey": apiKey = value
            case "setifnot": setIfNot = Self.isOn(value)
            case "append": append = Self.isOn(value)
            case "take": take = Self.isOn(value)
            case "burst": burst = Self.isOn(value)
            case "chtimes": touch = Self.isOn(value)
            default: break
            }
        }
    }

    /// `uri` with the value of every `apikey` parameter (however its name
    /// is escaped) replaced, for log lines and errors: a key never reaches
    /// a log.
    public static func redacted(_ uri: String) -> String {
        guard let question = uri.firstIndex(of: "?") else { return uri }
        let pairs = uri[uri.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map { pair in
            let name = pair.firstIndex(of: "=").map { pair[..<$0] } ?? pair
            return percentDecoded(name) == "apikey" ? name + "=REDACTED" : String(pair)
        }
        return uri[...question] + pairs.joined(separator: "&")
    }

    /// Flags are on unless explicitly `0`, `false` or empty.
    private static func isOn(_ value: String) -> Bool {
        !(value.isEmpty || value == "0" || value == "false")
    }

    static func percentDecoded(_ text: Substring) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var index = text.utf8.startIndex
        let end = text.utf8.endIndex
        while index < end {
            let byte = text.utf8[index]
            if byte == UInt8(ascii: "%"),
               let high = text.utf8.index(index, offsetBy: 1, limitedBy: end), high < end,
               let low = text.utf8.index(index, offsetBy: 2, limitedBy: end), low < end,
               let highValue = hexValue(text.utf8[high]), let lowValue = hexValue(text.utf8[low]) {
                bytes.append(highValue << 4 | lowValue)
                index = text.utf8.index(after: low)
            } else if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
                index = text.utf8.index(after: index)
            } else {
                bytes.append(byte)
                index = text.utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Percent-encodes everything but unreserved characters, for values put
    /// into URIs sent to peers.
    public static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = Array("0123456789ABCDEF".utf8)
                result += "%" + String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
            }
        }
        return result
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// The `format` parameter: its first `*` becomes the path; everything else is
/// literal text (no printf-style interpretation).
public func formatted(_ path: String, with template: String?) -> String {
    guard let template else { return path }
    guard let star = template.firstIndex(of: "*") else { return template }
    return template[..<star] + path + template[template.index(after: star)...]
}
