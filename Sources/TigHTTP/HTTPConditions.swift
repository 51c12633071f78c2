import NIOHTTP1
import TigAddress
import TigStore

/// What a read answers about the block besides its bytes (SPEC §3): a
/// content block never changes at its address, so its hash is its strong
/// ETag and any cache may keep it for the retention period; a key slot
/// changes, so caches must ask again, and its ETag is the hash of its value
/// (`valueHash`: given for `GET`, omitted for `HEAD`, which RFC 9110 §9.3.2
/// allows for a field computed from the content).
public struct ReadValidators {
    let etag: String?
    let cacheControl: String

    public init(kind: BlockKind, address: BlockAddress, valueHash: BlockAddress? = nil, retentionSeconds: Int64) {
        switch kind {
        case .content:
            etag = "\"\(address.hex)\""
            cacheControl = "public, max-age=\(retentionSeconds), immutable"
        case .slot:
            etag = valueHash.map { "\"\($0.hex)\"" }
            cacheControl = "no-cache"
        }
    }

    func add(to headers: inout HTTPHeaders) {
        if let etag { headers.add(name: "etag", value: etag) }
        headers.add(name: "cache-control", value: cacheControl)
        headers.add(name: "accept-ranges", value: "bytes")
    }
}

/// The conditional and range headers of a `GET` or `HEAD` (RFC 9110 §13,
/// §14), evaluated in the RFC's order: `If-None-Match` first, then `Range`
/// (only for `GET`, and only while `If-Range` still matches).
public struct ReadConditions {
    private let ifNoneMatch: String?
    private let range: String?
    private let ifRange: String?

    /// The headers a read passes on to the peer that holds the block, so
    /// that the peer answers 304, 206 or 416 itself.
    static let headerNames = ["if-none-match", "range", "if-range"]

    public init(_ headers: HTTPHeaders) {
        ifNoneMatch = Self.joined(headers, "if-none-match")
        range = Self.joined(headers, "range")
        ifRange = headers.first(name: "if-range")
    }

    /// Whether any condition is present at all (the common read has none).
    var isEmpty: Bool { ifNoneMatch == nil && range == nil }

    public enum Outcome: Equatable {
        case notModified
        case whole
        case part(Range<Int>)
        case unsatisfiable
    }

    public func outcome(for validators: ReadValidators, size: Int, isGET: Bool) -> Outcome {
        if let ifNoneMatch, Self.anyTag(in: ifNoneMatch, matches: validators.etag) { return .notModified }
        guard isGET, let range else { return .whole }
        // If-Range compares strongly, and a date never matches: there is
        // no Last-Modified to compare it with.
        if let ifRange, ifRange.trimmingSpaces != validators.etag { return .whole }
        return ByteRange.evaluate(range, size: size)
    }

    /// `*` matches anything that exists; tags compare weakly (`W/` ignored).
    static func anyTag(in list: String, matches etag: String?) -> Bool {
        if list.trimmingSpaces == "*" { return true }
        guard let etag else { return false }
        return entityTags(in: list).contains(etag)
    }

    /// The opaque tags (quotes included, `W/` dropped, or weak ones left
    /// out with `strongOnly`) of a list such as `"a", W/"b"`; a malformed
    /// entry ends the list.
    static func entityTags(in list: String, strongOnly: Bool = false) -> [String] {
        var tags: [String] = []
        var rest = Substring(list)
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "," }
            let weak = rest.hasPrefix("W/")
            if weak { rest = rest.dropFirst(2) }
            guard rest.first == "\"", let close = rest.dropFirst().firstIndex(of: "\"") else { return tags }
            if !(weak && strongOnly) { tags.append(String(rest[...close])) }
            rest = rest[rest.index(after: close)...]
        }
    }

    static func joined(_ headers: HTTPHeaders, _ name: String) -> String? {
        let values = headers[name]
        return values.isEmpty ? nil : values.joined(separator: ",")
    }
}

/// The preconditions of a key-slot write (SPEC §3, RFC 9110 §13.1.1–2):
/// `If-Match` is compare-and-set on the value's tag (strong comparison,
/// `*` for any value), `If-None-Match: *` creates only. Other
/// `If-None-Match` values on a write are not evaluated.
public enum WriteConditions {
    /// The headers a write passes on to the slot's primary, which decides.
    static let headerNames = ["if-match", "if-none-match"]

    public static func precondition(_ headers: HTTPHeaders) -> BlockStore.SlotPrecondition {
        if let ifMatch = ReadConditions.joined(headers, "if-match") {
            if ifMatch.trimmingSpaces == "*" { return .exists }
            let hashes = ReadConditions.entityTags(in: ifMatch, strongOnly: true).compactMap { tag in
                BlockAddress(hex: String(tag.dropFirst().dropLast()))
            }
            return .valueHash(in: Set(hashes))
        }
        if ReadConditions.joined(headers, "if-none-match")?.trimmingSpaces == "*" { return .absent }
        return .none
    }
}

/// One `Range: bytes=…` of RFC 9110 §14.1.2 against a body of `size` bytes.
/// Several ranges, another unit or bad syntax answer the whole body, which
/// the RFC allows (a server may ignore `Range`).
enum ByteRange {
    static func evaluate(_ header: String, size: Int) -> ReadConditions.Outcome {
        let value = header.trimmingSpaces
        guard value.count > 6, value.prefix(6).lowercased() == "bytes=" else { return .whole }
        let spec = value.dropFirst(6).trimmingSpaces
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            // `-n`: the last n bytes.
            guard let suffix = number(last) else { return .whole }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .part(max(0, size - suffix)..<size)
        }
        guard let start = number(first) else { return .whole }
        let end: Int
        if last.isEmpty {
            end = size
        } else {
            guard let lastByte = number(last), lastByte >= start else { return .whole }
            end = lastByte >= size ? size : lastByte + 1
        }
        guard start < size else { return .unsatisfiable }
        return .part(start..<end)
    }

    /// Digits only; a number too large for `Int` is `Int.max` (it is past
    /// the end of any body, which is what it means).
    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int(text) ?? .max
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
