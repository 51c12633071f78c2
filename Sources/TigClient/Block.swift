import NIOCore
import TigAddress

/// A content block: bytes and the SHA-256 address they are stored at.
public struct Block: Sendable {
    public let address: BlockAddress
    public let bytes: ByteBuffer

    public init(_ bytes: ByteBuffer) {
        self.bytes = bytes
        self.address = Self.address(of: bytes)
    }

    public init(_ bytes: [UInt8]) {
        self.init(ByteBuffer(bytes: bytes))
    }

    public static func address(of bytes: ByteBuffer) -> BlockAddress {
        let hasher = SHA256Hasher()
        bytes.withUnsafeReadableBytes { hasher.update($0) }
        return hasher.finish()
    }
}
