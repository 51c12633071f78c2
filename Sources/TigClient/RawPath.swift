import Glibc

/// A file-system path kept as bytes: file names on Linux are bytes, not
/// necessarily UTF-8, and a pulled tree must carry them over exactly.
public struct RawPath: Sendable, Hashable, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    public init(_ string: String) {
        self.bytes = Array(string.utf8)
    }

    /// This path with `name` appended as one more component.
    public func appending(_ name: [UInt8]) -> RawPath {
        if bytes.isEmpty { return RawPath(bytes: name) }
        if bytes.last == UInt8(ascii: "/") { return RawPath(bytes: bytes + name) }
        return RawPath(bytes: bytes + [UInt8(ascii: "/")] + name)
    }

    /// The directory holding this path's last component (`.` for a bare name).
    public var parent: RawPath {
        var trimmed = bytes[...]
        while trimmed.count > 1, trimmed.last == UInt8(ascii: "/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: UInt8(ascii: "/")) else { return RawPath(".") }
        if slash == trimmed.startIndex { return RawPath("/") }
        return RawPath(bytes: Array(trimmed[..<slash]))
    }

    /// The last component, without trailing slashes.
    public var lastComponent: [UInt8] {
        var trimmed = bytes[...]
        while trimmed.count > 1, trimmed.last == UInt8(ascii: "/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: UInt8(ascii: "/")) else { return Array(trimmed) }
        return Array(trimmed[trimmed.index(after: slash)...])
    }

    /// For messages: invalid UTF-8 shows as U+FFFD.
    public var description: String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// The NUL-terminated form system calls take (an array argument passes
    /// as a pointer to its elements).
    var cString: [CChar] {
        bytes.map { CChar(bitPattern: $0) } + [0]
    }
}

enum SystemErrorText {
    static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
