import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import TigCluster
import TigCommandLine
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

    @Option(help: "Address of the admin listener (plain HTTP): /metrics, /healthz, /readyz and the listing, HOST:PORT. Env: TIG_ADMIN_LISTEN.")
    var adminListen: String?

    @Option(help: "Data directory (default /data if it exists, else /tmp). Env: TIG_DATA.")
    var data: String?

    @Option(help: "Delete blocks not read or written for this long. Env: TIG_RETENTION.")
    var retention = DurationArgument(.seconds(600))

    /// `--retention`, else `TIG_RETENTION`.
    var effectiveRetention: DurationArgument {
        get throws { try Self.flag("--retention", retention, orEnvironment: "TIG_RETENTION", default: DurationArgument(.seconds(600))) }
    }

    @Option(help: "Largest accepted block. Env: TIG_MAX_BLOCK_SIZE.")
    var maxBlockSize = ByteSizeArgument(bytes: 128 << 20)

    /// `--max-block-size`, else `TIG_MAX_BLOCK_SIZE`.
    var effectiveMaxBlockSize: ByteSizeArgument {
        get throws {
            try Self.flag("--max-block-size", maxBlockSize, orEnvironment: "TIG_MAX_BLOCK_SIZE", default: ByteSizeArgument(bytes: 128 << 20))
        }
    }

    /// A flag's value when given (differs from its default), else the
    /// environment variable's, else the default.
    static func flag<Value: ExpressibleByArgument & Equatable>(
        _ name: String, _ value: Value, orEnvironment variable: String, default: Value
    ) throws -> Value {
        guard value == `default`, let text = ProcessInfo.processInfo.environment[variable] else { return value }
        guard let parsed = Value(argument: text) else { throw ValidationError("\(variable)=\(text) is not a valid \(name)") }
        return parsed
    }

    @Option(help: "Event-loop threads serving connections (default: one per core).")
    var eventLoops: Int?

    @Option(help: "Memory for small blocks (up to 64 KiB) read recently; 0 turns the cache off.")
    var cacheSize = ByteSizeArgument(bytes: 64 << 20)

    @Option(help: "Bound of the bytes stored in the data directory: beyond it the least recently used content blocks are deleted, and a key-slot write that cannot fit is refused (507); 0: the file system's size.")
    var maxDataSize = ByteSizeArgument(bytes: 0)

    @Option(help: "Memory for blocks (up to 256 KiB) this pod relayed from their homes in the cluster, so the next read of a popular block needs no hop; 0 turns it off.")
    var hotCacheSize = ByteSizeArgument(bytes: 32 << 20)

    @Option(help: "Ready only while the data directory has this much free space (and a probe write works).")
    var minFreeSpace = ByteSizeArgument(bytes: 8 << 20)

    @Option(help: "API key file, used when APIKEY is unset and <data>/apikey does not exist.")
    var apikeyFile: String?

    @Option(help: "TLS private key (default /etc/ssl/tig.key when it and the certificate exist).")
    var tlsKey: String?

    @Option(help: "TLS certificate chain (default /etc/ssl/tig.crt).")
    var tlsCert: String?

    @Option(help: "How often to look for a renewed TLS certificate and key; new connections use a pair that loads, a bad one is logged and the old kept.")
    var tlsReloadInterval = DurationArgument(.seconds(10))

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. Env: TIG_LOG_LEVEL.")
    var logLevel: Logger.Level = .info

    @Option(help: "Log lines as logfmt or json. Env: TIG_LOG_FORMAT.")
    var logFormat: LogFormat = .logfmt

    @Option(help: "A request head must arrive completely within this.")
    var headerTimeout = DurationArgument(.seconds(10))

    @Option(help: "Close connections with no traffic for this long.")
    var idleTimeout = DurationArgument(.seconds(60))

    @Option(help: "A request body must arrive at least this many bytes per second, measured over each --body-rate-window (408 otherwise); 0 turns it off.")
    var minBodyRate = ByteSizeArgument(bytes: 1024)

    @Option(help: "The window over which --min-body-rate is measured.")
    var bodyRateWindow = DurationArgument(.seconds(10))

    @Option(help: "DNS name of the headless Service whose addresses are the peers. Env: TIG_CLUSTER.")
    var cluster: String?

    @Option(help: "Static peers instead of DNS, HOST:PORT,HOST:PORT. Env: TIG_PEERS.")
    var peers: String?

    @Option(help: "How often to re-resolve the peers.")
    var peerRefresh = DurationArgument(.seconds(5))

    @Option(help: "How long to wait for peers to say whether they hold a block.")
    var peerTimeout = DurationArgument(.milliseconds(250))

    @Flag(help: "Verify peers' TLS certificates (off by default inside a cluster).")
    var peerTlsVerify = false

    @Option(help: "File holding the cluster secret (at least 16 bytes) that peer requests prove they know. Without it, only the addresses the cluster's DNS name or static list resolve to are peers. Env: TIG_CLUSTER_SECRET_FILE.")
    var clusterSecretFile: String?

    @Option(help: "How many pods hold each content block (its homes). Env: TIG_REPLICAS.")
    var replicas: Int?

    @Option(help: "Upper bound of the drain (pushing every block to the peers) after SIGTERM.")
    var drainTimeout = DurationArgument(.seconds(25))

    @Option(help: "After SIGTERM, keep serving (unready) this long so load balancers stop sending traffic first; a second signal cuts it short.")
    var shutdownDelay = DurationArgument(.zero)

    @Option(help: "After a drain that left blocks behind, keep the admin port answering this long before exiting, so a scrape sees tig_drain_left_blocks (at least the scrape interval); a second signal cuts it short.")
    var drainReportDelay = DurationArgument(.zero)

    func validate() throws {
        if let eventLoops, eventLoops < 1 { throw ValidationError("--event-loops must be at least 1") }
        if let replicas, replicas < 1 { throw ValidationError("--replicas must be at least 1") }
        guard try effectiveMaxBlockSize.bytes > 0 else { throw ValidationError("--max-block-size must be positive") }
        for (name, value) in [
            ("--retention", try effectiveRetention), ("--header-timeout", headerTimeout), ("--idle-timeout", idleTimeout),
            ("--peer-refresh", peerRefresh), ("--peer-timeout", peerTimeout), ("--drain-timeout", drainTimeout),
            ("--body-rate-window", bodyRateWindow), ("--tls-reload-interval", tlsReloadInterval),
        ]
        where value.duration <= .zero {
            throw ValidationError("\(name) must be positive")
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let level = try Self.flag("--log-level", logLevel, orEnvironment: "TIG_LOG_LEVEL", default: .info)
        let format = try Self.flag("--log-format", logFormat, orEnvironment: "TIG_LOG_FORMAT", default: .logfmt)
        LoggingSystem.bootstrapEventLines(level: level, format: format)
        let logger = Logger(label: "tig")
        do {
            try await serve(environment: environment, logger: logger)
        } catch {
            logger.critical("cannot-start", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
    }

    private func serve(environment: [String: String], logger: Logger) async throws {
        let dataDirectory = data ?? environment["TIG_DATA"] ?? (FileManager.default.fileExists(atPath: "/data") ? "/data" : "/tmp")
        let clock = SystemWallClock()
        let retention = try effectiveRetention
        let store = try BlockStore(
            directory: dataDirectory, retention: retention.duration, maxBlockSize: try effectiveMaxBlockSize.bytes,
            cacheSize: cacheSize.bytes, maxDataSize: maxDataSize.bytes > 0 ? maxDataSize.bytes : nil, clock: clock, logger: logger)
        let sweeper = RetentionSweeper(store: store, clock: clock, logger: logger)
        sweeper.start()
        defer { sweeper.stop() }

        let tls = try tlsFiles().map { try TLSIdentity(files: $0, logger: logger) }
        let (host, port) = try Self.listenAddress(listen ?? environment["TIG_LISTEN"], option: "--listen", default: tls != nil ? 443 : 7777)
        let metrics = ServerMetrics(
            statistics: store.statistics, maxDataSize: store.maxDataSize, fileSystemSpace: { store.fileSystemSpace },
            version: BuildInfo.version, revision: BuildInfo.revision)
        let readiness = Readiness(store: store, minimumFreeSpace: minFreeSpace.bytes)
        let authority = APIKeyAuthority(environmentKey: environment["APIKEY"], dataDirectory: dataDirectory, explicitFile: apikeyFile, logger: logger)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: eventLoops ?? System.coreCount)
        let cluster = try clusterSource(environment: environment, port: port).map { source in
            Cluster(source: source, port: port, podIP: environment["POD_IP"], tls: tls != nil, options: self,
                    credentials: try clusterCredentials(environment: environment), replicas: try effectiveReplicas(environment),
                    store: store, readiness: readiness, authority: authority, metrics: metrics, group: group,
                    hotCache: HotCache(capacity: hotCacheSize.bytes, maxAge: retention.duration / 4), logger: logger)
        }
        let context = ServerContext(
            store: store,
            authority: authority,
            metrics: metrics,
            readiness: readiness,
            limits: HTTPLimits(
                maxBlockSize: try effectiveMaxBlockSize.bytes, headerTimeout: headerTimeout.timeAmount, idleTimeout: idleTimeout.timeAmount,
                minimumBodyRate: minBodyRate.bytes, bodyRateWindow: bodyRateWindow.timeAmount),
            usesTLS: tls != nil,
            logger: logger,
            network: cluster?.network)
        let signals = ShutdownSignals()
        let tlsWatch = tls?.watch(every: tlsReloadInterval.timeAmount, on: group.next())
        defer { tlsWatch?.cancel() }
        let server = try await TigServer(host: host, port: port, tls: tls, server: context, group: group)
        let (adminHost, adminPort) = try Self.listenAddress(adminListen ?? environment["TIG_ADMIN_LISTEN"], option: "--admin-listen", default: 9090)
        let admin = try await TigServer(host: adminHost, port: adminPort, tls: nil, listener: .admin, server: context, group: group)
        logger.info("listening", metadata: [
            "address": "\(host):\(server.localAddress?.port ?? port)",
            "admin": "\(adminHost):\(admin.localAddress?.port ?? adminPort)",
            "data": "\(dataDirectory)",
            "blocks": "\(store.statistics.blocks)",
            "retention": "\(DurationText.format(retention.duration))",
            "tls": "\(tls != nil)",
            "cluster": "\(cluster.map { "\($0.source)" } ?? "none")",
            "peers-authenticated": "\(cluster.map { $0.authenticated ? "secret" : "by address" } ?? "none")",
        ])

        let signal = await signals.next() ?? SIGTERM
        let deadline = ContinuousClock.now + drainTimeout.duration
        readiness.beginDraining()
        logger.info("draining", metadata: ["signal": "\(signal)", "delay": "\(DurationText.format(shutdownDelay.duration))"])
        // While still serving (peers may ask for what this pod holds), hand
        // every block to the peers.
        await cluster?.network.announceDraining()
        await cluster?.rebalancer.drain(until: deadline)
        let remainingDelay = shutdownDelay.duration - drainTimeout.duration + (deadline - ContinuousClock.now)
        await signals.sleep(for: remainingDelay)
        // Stop accepting; requests in flight finish (within the drain bound).
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await server.shutdown() }
            group.addTask { try? await Task.sleep(until: deadline) }
            await group.next()
            group.cancelAll()
        }
        // Blocks written while the first pass ran, or by the last requests.
        let drained = await cluster?.rebalancer.drain(until: deadline)
        await cluster?.stop()
        // From the last pass only: the first may leave what this one took.
        metrics.drainLeftBlocks.set(Double(drained?.left ?? 0))
        if let drained, drained.left > 0 {
            logger.warning("drain-incomplete", metadata: [
                "left": "\(drained.left)", "report-delay": "\(DurationText.format(drainReportDelay.duration))",
            ])
            await signals.sleep(for: drainReportDelay.duration)
        }
        // Probes and scrapes were answered until here.
        try? await admin.shutdown()
        logger.info("stopped")
    }

    private func clusterSource(environment: [String: String], port: Int) throws -> PeerDirectory.Source? {
        if let list = peers ?? environment["TIG_PEERS"], !list.isEmpty {
            return .fixed(try list.split(separator: ",").map { entry in
                let (host, port) = try Self.hostAndPort(String(entry), option: "--peers")
                return Peer(host: host, port: port)
            })
        }
        if let name = cluster ?? environment["TIG_CLUSTER"], !name.isEmpty {
            return .dns(name: name, port: port)
        }
        return nil
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

    /// HOST:PORT, or :PORT for every interface.
    private static func listenAddress(_ text: String?, option: String, default port: Int) throws -> (String, Int) {
        guard let text else { return ("0.0.0.0", port) }
        let (host, port) = try hostAndPort(text, option: option)
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    static func hostAndPort(_ text: String, option: String) throws -> (String, Int) {
        guard let parsed = HostPort.parse(text) else { throw ValidationError("\(option) wants HOST:PORT, got \(text)") }
        return parsed
    }
}

extension DurationArgument {
    var timeAmount: TimeAmount {
        .nanoseconds(duration.nanoseconds)
    }
}

