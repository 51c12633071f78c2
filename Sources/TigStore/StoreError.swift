import Glibc

/// A file-system call failed in a way the request cannot recover from.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let code: Int32

    public init(_ operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    /// The file system is full (or over quota): the client may retry later.
    public var isOutOfSpace: Bool { code == ENOSPC || code == EDQUOT }

    public var description: String {
        "\(operation): \(String(cString: strerror(code)))"
    }
}
