import Foundation
import Glibc
import Logging
import NIOConcurrencyHelpers
import TigAddress
import TigStore

/// Decides whether a request may write, delete or list.
///
/// The key comes from the `APIKEY` environment variable, else the first line
/// of `<data>/apikey`, else the `--apikey-file`. Files are re-checked on every
/// decision (one `lstat`), so a key placed, changed or removed while the
/// server runs takes effect at once. A key file is honoured only if it is a
/// regular file owned by the server's user and not writable by group or
/// others; a file that fails this check fails closed.
public final class APIKeyAuthority: Sendable {
    public enum Configured: Equatable, Sendable {
        case none
        case key([UInt8])
        /// A key file exists but may not be trusted: refuse everything.
        case unusable(String)
    }

    private let environmentKey: [UInt8]?
    private let candidateFiles: [String]
    private let explicitFile: String?
    private let cache = NIOLockedValueBox<(identity: FileIdentity?, configured: Configured)>((nil, .none))
    private let logger: Logger

    public init(environmentKey: String?, dataDirectory: String, explicitFile: String?, logger: Logger) {
        self.environmentKey = environmentKey.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        self.candidateFiles = [dataDirectory + "/apikey"] + (explicitFile.map { [$0] } ?? [])
        self.explicitFile = explicitFile
        self.logger = logger
    }

    /// True when no key is configured or `presented` is the key. With no key
    /// configured a presented key is ignored.
    public func mayWrite(presenting presented: String?) -> Bool {
        switch configured() {
        case .none: true
        case .key(let key): presented.map { Self.constantTimeEqual(Array($0.utf8), key) } ?? false
        case .unusable: false
        }
    }

    /// Listing needs the key; with no key configured nobody may list.
    public func mayList(presenting presented: String?) -> Bool {
        guard case .key(let key) = configured(), let presented else { return false }
        return Self.constantTimeEqual(Array(presented.utf8), key)
    }

    /// The key a request presents: `?apikey=K`, else `Authorization: Bearer
    /// K`, else the password of HTTP Basic authentication (`user:K`, any
    /// user), as build-cache and other HTTP clients send credentials.
    public static func presentedKey(query: String?, authorization: String?) -> String? {
        if let query { return query }
        guard let authorization else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else { return nil }
        let credentials = parts[1].trimmingCharacters(in: .whitespaces)
        switch parts[0].lowercased() {
        case "bearer":
            return credentials
        case "basic":
            // The first colon byte: a Character search would miss a colon
            // that a combining mark after it joins into one grapheme.
            guard let decoded = Data(base64Encoded: credentials), let text = String(data: decoded, encoding: .utf8),
                  let colon = text.utf8.firstIndex(of: UInt8(ascii: ":"))
            else { return nil }
            return String(text[text.utf8.index(after: colon)...])
        default:
            return nil
        }
    }

    /// The key to present to peers (requests sent on this pod's behalf, such
    /// as a drain), when one is configured.
    public var keyForPeers: String? {
        guard case .key(let key) = configured() else { return nil }
        return String(decoding: key, as: UTF8.self)
    }

    public var isConfigured: Bool {
        configured() != .none
    }

    func configured() -> Configured {
        if let environmentKey { return .key(environmentKey) }
        for path in candidateFiles {
            var status = stat()
            guard lstat(path, &status) == 0 else {
                if path == explicitFile {
                    return remember(nil, .unusable("\(path) does not exist"))
                }
                continue
            }
            // A FIFO or device would block the event loop that opens it.
            guard status.st_mode & S_IFMT == S_IFREG else {
                return remember(nil, .unusable("\(path) is not a regular file"))
            }
            let identity = FileIdentity(status)
            if let cached = cache.withLockedValue({ $0.identity == identity ? $0.configured : nil }) {
                return cached
            }
            return remember(identity, Self.load(path))
        }
        return remember(nil, .none)
    }

    private func remember(_ identity: FileIdentity?, _ configured: Configured) -> Configured {
        let changed = cache.withLockedValue { cache in
            defer { cache = (identity, configured) }
            return cache.configured != configured
        }
        if changed, case .unusable(let reason) = configured {
            logger.error("apikey-file-refused", metadata: ["reason": "\(reason)", "effect": "writes and listing denied"])
        }
        return configured
    }

    private static func load(_ path: String) -> Configured {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return .unusable("\(path): cannot open") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            return .unusable("\(path) is not a regular file")
        }
        guard status.st_uid == geteuid() else { return .unusable("\(path) is not owned by the server's user") }
        guard status.st_mode & 0o022 == 0 else { return .unusable("\(path) is writable by group or others") }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = read(descriptor, &bytes, bytes.count)
        guard count >= 0 else { return .unusable("\(path): cannot read") }
        var key = bytes.prefix(count).prefix { $0 != UInt8(ascii: "\n") }
        if key.last == UInt8(ascii: "\r") { key.removeLast() }
        return key.isEmpty ? .unusable("\(path) has an empty first line") : .key(Array(key))
    }

    /// Compares SHA-256 digests of both sides with no early exit, so neither
    /// the key's content nor its length shows in the timing.
    static func constantTimeEqual(_ presented: [UInt8], _ key: [UInt8]) -> Bool {
        let left = SHA256Hasher.address(of: presented).bytes
        let right = SHA256Hasher.address(of: key).bytes
        var difference: UInt8 = 0
        for index in 0..<32 {
            difference |= left[index] ^ right[index]
        }
        return difference == 0
    }
}

/// Enough of a file's metadata to notice that it was replaced or edited.
struct FileIdentity: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modified: Int64
    let changed: Int64

    init(_ status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
        size = Int64(status.st_size)
        modified = Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec)
        changed = Int64(status.st_ctim.tv_sec) * 1_000_000_000 + Int64(status.st_ctim.tv_nsec)
    }
}
