/// Validates the `Content-Type` query parameter as an RFC 9110 media type:
/// `type "/" subtype *( OWS ";" OWS name "=" ( token / quoted-string ) )`.
/// Anything else (CR/LF above all) is refused, so the parameter can never
/// inject a header.
public enum MediaType {
    public static func isValid(_ text: String) -> Bool {
        var scanner = Scanner(Array(text.utf8))
        guard scanner.token(), scanner.consume(UInt8(ascii: "/")), scanner.token() else { return false }
        while true {
            scanner.skipWhitespace()
            if scanner.atEnd { return true }
            guard scanner.consume(UInt8(ascii: ";")) else { return false }
            scanner.skipWhitespace()
            guard scanner.token(), scanner.consume(UInt8(ascii: "=")) else { return false }
            guard scanner.token() || scanner.quotedString() else { return false }
        }
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index == bytes.count }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func skipWhitespace() {
            while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") {
                index += 1
            }
        }

        /// One or more token characters (RFC 9110 tchar).
        mutating func token() -> Bool {
            let start = index
            while index < bytes.count, Self.isTokenCharacter(bytes[index]) { index += 1 }
            return index > start
        }

        mutating func quotedString() -> Bool {
            guard consume(UInt8(ascii: "\"")) else { return false }
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return true
                case UInt8(ascii: "\\"):
                    guard index < bytes.count, Self.isQuotedText(bytes[index]) else { return false }
                    index += 1
                case _ where Self.isQuotedText(byte): continue
                default: return false
                }
            }
            return false
        }

        static func isTokenCharacter(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            default:
                "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }

        /// Visible characters, space and tab; never CR or LF.
        static func isQuotedText(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: "\t") || (byte >= 0x20 && byte != 0x7F)
        }
    }
}
