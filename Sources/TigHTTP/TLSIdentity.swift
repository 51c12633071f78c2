import Glibc
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

/// Certificate and key files for HTTPS.
public struct TLSFiles: Sendable {
    public let certificate: String
    public let key: String

    public init(certificate: String, key: String) {
        self.certificate = certificate
        self.key = key
    }
}

/// The server's TLS certificate and key, reloaded when their files change:
/// cert-manager renews the Secret and the kubelet swaps the mounted
/// directory's `..data` link, so the files are watched by what `stat` sees
/// through the links. New connections get the new pair, open ones keep
/// theirs; a pair that does not load (half written, mismatched, unreadable)
/// is logged once and the last good one kept.
public final class TLSIdentity: Sendable {
    public let files: TLSFiles
    private let logger: Logger
    private let state: NIOLockedValueBox<State>

    private struct State {
        var context: NIOSSLContext
        /// The files' identity when `context` was loaded, or when loading
        /// them last failed (so a bad pair is reported once, not per check).
        var seen: FileVersion?
    }

    /// Loads the pair; a failure names the file.
    public init(files: TLSFiles, logger: Logger) throws {
        self.files = files
        self.logger = logger
        let version = FileVersion(files)
        state = NIOLockedValueBox(State(context: try Self.load(files), seen: version))
    }

    /// What a new connection uses.
    public var context: NIOSSLContext {
        state.withLockedValue { $0.context }
    }

    /// Checks the files every `interval` until the task is cancelled.
    public func watch(every interval: TimeAmount, on eventLoop: any EventLoop) -> RepeatedTask {
        eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in reloadIfChanged() }
    }

    /// Loads the files again when they changed since the last look.
    public func reloadIfChanged() {
        let version = FileVersion(files)
        guard let version, version != state.withLockedValue({ $0.seen }) else { return }
        do {
            let context = try Self.load(files)
            state.withLockedValue { $0 = State(context: context, seen: version) }
            logger.info("tls-reloaded", metadata: ["certificate": "\(files.certificate)", "key": "\(files.key)"])
        } catch {
            state.withLockedValue { $0.seen = version }
            logger.error("tls-reload-failed", metadata: ["error": "\(error)", "kept": "the previous certificate and key"])
        }
    }

    /// A certificate chain or key file is small; anything larger is not one.
    static let largestFile = 1 << 20

    private static func load(_ files: TLSFiles) throws -> NIOSSLContext {
        // Opening a FIFO would block the event loop; a huge file would hold it.
        for file in [files.certificate, files.key] {
            var status = stat()
            if stat(file, &status) == 0, (status.st_mode & S_IFMT) != S_IFREG || status.st_size > largestFile {
                throw TigServer.StartError(
                    what: "load", subject: file, reason: "not a regular file of at most \(largestFile) bytes")
            }
        }
        let chain = try TigServer.StartError.naming(files.certificate, as: "TLS certificate") {
            try NIOSSLCertificate.fromPEMFile(files.certificate).map { NIOSSLCertificateSource.certificate($0) }
        }
        guard !chain.isEmpty else {
            throw TigServer.StartError(what: "load the TLS certificate", subject: files.certificate, reason: "no certificate in the file")
        }
        let key = try TigServer.StartError.naming(files.key, as: "TLS key") { try NIOSSLPrivateKey(file: files.key, format: .pem) }
        do {
            // BoringSSL refuses a key that does not match the certificate.
            return try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
        } catch {
            throw TigServer.StartError(what: "use the TLS certificate and key", subject: "\(files.certificate) and \(files.key)", reason: "\(error)")
        }
    }
}

/// Which file a path names now and how it was last written, through links.
private struct FileVersion: Equatable {
    let certificate: [Int]
    let key: [Int]

    init?(_ files: TLSFiles) {
        guard let certificate = Self.stamp(files.certificate), let key = Self.stamp(files.key) else { return nil }
        self.certificate = certificate
        self.key = key
    }

    private static func stamp(_ path: String) -> [Int]? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return [Int(status.st_dev), Int(status.st_ino), Int(status.st_size), status.st_mtim.tv_sec, status.st_mtim.tv_nsec]
    }
}
