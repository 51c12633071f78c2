import CTigSystem
import Glibc
import TigAddress

/// A request body on its way into the store: written to an unnamed file in the
/// data directory and hashed as it arrives, so memory does not grow with its
/// size and nothing is visible under a block name until the store links it.
/// Dropping it without storing leaves nothing behind.
///
/// With `.external` hashing the caller hashes the same bytes elsewhere (on
/// another core, while this one writes) and hands over the digest with
/// `seal`; large bodies arrive faster that way.
public final class IncomingBlock {
    public enum Hashing: Sendable {
        case inline
        case external
    }

    let descriptor: CInt
    /// Nil with external hashing.
    private let hasher: SHA256Hasher?
    private let limit: Int
    public private(set) var size = 0
    private var digest: BlockAddress?

    public enum Failure: Error, Equatable {
        /// The body is larger than the store accepts.
        case tooLarge
    }

    init(directory: CInt, limit: Int, hashing: Hashing) throws {
        let descriptor = tig_open_unnamed(directory)
        guard descriptor >= 0 else { throw StoreError("open(O_TMPFILE)") }
        self.descriptor = descriptor
        self.limit = limit
        self.hasher = hashing == .inline ? SHA256Hasher() : nil
    }

    deinit {
        close(descriptor)
    }

    /// Appends the next part of the body.
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard size + bytes.count <= limit else { throw Failure.tooLarge }
        hasher?.update(bytes)
        var written = 0
        while written < bytes.count {
            let result = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                throw StoreError("write")
            }
            written += result
        }
        size += bytes.count
    }

    public func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }

    /// A second, independent handle on the bytes received so far, for sending
    /// them on (to a peer) from any thread. The caller closes it.
    public func reopen() throws -> BlockFile {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw StoreError("fstat") }
        return try BlockFile(descriptor: descriptor, status: status).duplicate()
    }

    /// With external hashing: the SHA-256 of every byte appended, computed
    /// by the caller. Call once, after the last part.
    public func seal(_ digest: BlockAddress) {
        precondition(hasher == nil && self.digest == nil, "seal once, and only with external hashing")
        self.digest = digest
    }

    /// SHA-256 of the whole body; call once all parts are appended (and, with
    /// external hashing, sealed).
    public var address: BlockAddress {
        if let digest { return digest }
        guard let hasher else { preconditionFailure("an externally hashed body must be sealed first") }
        let digest = hasher.finish()
        self.digest = digest
        return digest
    }
}
