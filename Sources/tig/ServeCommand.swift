import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import TigHTTP
import TigStore

/// `tig serve`: runs the pod server.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the tig pod server."
    )

    @Option(help: "Address to listen on, HOST:PORT (default 0.0.0.0:7777, or 0.0.0.0:443 with TLS). Env: TIG_LISTEN.")
    var listen: String?

    @Option(help: "Data directory (default /data if it exists, else /tmp). Env: TIG_DATA.")
    var data: String?

    @Option(help: "Delete blocks not read or written for this long.")
    var retention = DurationArgument(.seconds(600))

    @Option(help: "Largest accepted block.")
    var maxBlockSize = ByteSizeArgument(bytes: 128 << 20)

    @Option(help: "API key file, used when APIKEY is unset and <data>/apikey does not exist.")
    var apikeyFile: String?

    @Option(help: "TLS private key (default /etc/ssl/tig.key when it and the certificate exist).")
    var tlsKey: String?

    @Option(help: "TLS certificate chain (default /etc/ssl/tig.crt).")
    var tlsCert: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "A request head must arrive completely within this.")
    var headerTimeout = DurationArgument(.seconds(10))

    @Option(help: "Close connections with no traffic for this long.")
    var idleTimeout = DurationArgument(.seconds(60))

    @Option(help: "After SIGTERM, keep serving (unready) this long so load balancers stop sending traffic first; a second signal cuts it short.")
    var shutdownDelay = DurationArgument(.zero)

    func validate() throws {
        for (name, value) in [("--retention", retention), ("--header-timeout", headerTimeout), ("--idle-timeout", idleTimeout)]
        where value.duration <= .zero {
            throw ValidationError("\(name) must be positive")
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let level = environment["TIG_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "tig")
        do {
            try await serve(environment: environment, logger: logger)
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
    }

    private func serve(environment: [String: String], logger: Logger) async throws {
        let dataDirectory = data ?? environment["TIG_DATA"] ?? (FileManager.default.fileExists(atPath: "/data") ? "/data" : "/tmp")
        let clock = SystemWallClock()
        let store = try BlockStore(directory: dataDirectory, retention: retention.duration, clock: clock, logger: logger)
        let sweeper = RetentionSweeper(store: store, clock: clock, logger: logger)
        sweeper.start()
        defer { sweeper.stop() }

        let tls = try tlsFiles()
        let (host, port) = try listenAddress(environment["TIG_LISTEN"] ?? listen, tls: tls != nil)
        let metrics = ServerMetrics(statistics: store.statistics)
        let readiness = Readiness(store: store)
        let context = ServerContext(
            store: store,
            authority: APIKeyAuthority(environmentKey: environment["APIKEY"], dataDirectory: dataDirectory, explicitFile: apikeyFile, logger: logger),
            metrics: metrics,
            readiness: readiness,
            limits: HTTPLimits(maxBlockSize: maxBlockSize.bytes, headerTimeout: headerTimeout.timeAmount, idleTimeout: idleTimeout.timeAmount),
            usesTLS: tls != nil,
            logger: logger,
            network: nil)
        let group = MultiThreadedEventLoopGroup.singleton
        let signals = ShutdownSignals()
        let server = try await TigServer(host: host, port: port, tls: tls, server: context, group: group)
        logger.info("listening", metadata: [
            "address": "\(server.localAddress.map { "\($0)" } ?? "\(host):\(port)")",
            "data": "\(dataDirectory)",
            "blocks": "\(store.statistics.blocks)",
            "retention": "\(retention.defaultValueDescription)",
            "tls": "\(tls != nil)",
        ])

        let signal = await signals.next()
        readiness.beginDraining()
        logger.info("draining", metadata: ["signal": "\(signal)", "delay": "\(shutdownDelay.defaultValueDescription)"])
        if shutdownDelay.duration > .zero {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await Task.sleep(for: shutdownDelay.duration) }
                group.addTask { _ = await signals.next() }
                await group.next()
                group.cancelAll()
            }
        }
        try await server.shutdown()
        logger.info("stopped")
    }

    private func tlsFiles() throws -> TLSFiles? {
        switch (tlsKey, tlsCert) {
        case (let key?, let certificate?):
            return TLSFiles(certificate: certificate, key: key)
        case (nil, nil):
            let key = "/etc/ssl/tig.key", certificate = "/etc/ssl/tig.crt"
            let manager = FileManager.default
            return manager.fileExists(atPath: key) && manager.fileExists(atPath: certificate)
                ? TLSFiles(certificate: certificate, key: key) : nil
        default:
            throw ValidationError("--tls-key and --tls-cert go together")
        }
    }

    private func listenAddress(_ text: String?, tls: Bool) throws -> (String, Int) {
        guard let text else { return ("0.0.0.0", tls ? 443 : 7777) }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen wants HOST:PORT, got \(text)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

extension DurationArgument {
    var timeAmount: TimeAmount {
        .nanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }
}

/// SIGTERM and SIGINT as they arrive: the first starts the graceful shutdown,
/// a second cuts its delay short. Unchecked Sendable: the dispatch sources are
/// only retained after `init`, and the stream is Sendable.
final class ShutdownSignals: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    private let stream: AsyncStream<Int32>

    init() {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        self.stream = stream
        self.sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
    }

    /// The next signal; callers wait one at a time.
    func next() async -> Int32 {
        for await number in stream {
            return number
        }
        return SIGTERM
    }
}
