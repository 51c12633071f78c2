/// `%XX` escaping (uppercase hex) of every byte outside a kept set: one
/// spelling per byte string, so escaped text can be compared and sorted
/// canonically.
enum PercentEncoding {
    /// Printable ASCII except space and `%`: what a manifest field may hold
    /// unescaped.
    static func isVisibleASCII(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "%")
    }

    /// RFC 3986 unreserved characters: what a URL query value may hold
    /// unescaped.
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes, keeping keep: (UInt8) -> Bool) -> String {
        var encoded: [UInt8] = []
        for byte in bytes {
            if keep(byte) {
                encoded.append(byte)
            } else {
                encoded += [UInt8(ascii: "%")] + hexDigits(byte)
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }

    /// The two uppercase hex digits of `byte`.
    static func hexDigits(_ byte: UInt8) -> [UInt8] {
        let digits = Array("0123456789ABCDEF".utf8)
        return [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
    }

    /// The inverse of `encode` with the same `keep`; nil for anything
    /// `encode` would not have produced (a kept byte escaped, lowercase hex,
    /// a bad or cut-off escape, a byte that needs escaping left bare).
    static func decodeCanonical<Bytes: Collection<UInt8>>(_ text: Bytes, keeping keep: (UInt8) -> Bool) -> [UInt8]? {
        var decoded: [UInt8] = []
        var iterator = text.makeIterator()
        while let byte = iterator.next() {
            if byte != UInt8(ascii: "%") {
                guard keep(byte) else { return nil }
                decoded.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(upperHexValue), let low = iterator.next().flatMap(upperHexValue) else {
                return nil
            }
            let value = high << 4 | low
            guard !keep(value) else { return nil }
            decoded.append(value)
        }
        return decoded
    }

    private static func upperHexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
