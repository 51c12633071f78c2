import Foundation
import KubeClient
import Logging
import NIOCore
import NIOPosix
import TigCommandLine

/// Wires the operator together and runs it until SIGTERM: config, API
/// client, the start-up refusal on a competing autoscaler, the status
/// server, the pod informer, leader election and the reconcile loop.
public enum OperatorRuntime {
    public static func run(_ options: OperatorOptions, logger: Logger) async throws {
        let shutdown = ShutdownSignals()
        let config = try ConfigLoader.load(path: options.configPath)
        let connection = try options.kubeconfig.map { try ClusterConnection.kubeconfig(path: $0) } ?? ClusterConnection.inCluster()
        let executor = CurlExecutor()
        let client = KubernetesClient(connection: connection, executor: executor, logger: logger)
        do {
            try await serve(
                config: config, options: options, client: client, shutdown: shutdown,
                group: MultiThreadedEventLoopGroup.singleton, logger: logger)
            try await executor.shutdown()
        } catch {
            try? await executor.shutdown()
            throw error
        }
    }

    private static func serve(
        config: OperatorConfig, options: OperatorOptions, client: KubernetesClient, shutdown: ShutdownSignals,
        group: any EventLoopGroup, logger: Logger
    ) async throws {
        let events = EventRecorder(
            client: client, namespace: config.namespace, deployment: config.deployment, instance: options.identity,
            logger: logger)
        try await refuseCompetingAutoscaler(config: config, client: client, events: events)

        let metrics = OperatorMetrics()
        let server: any Channel
        do {
            server = try await StatusServer.start(host: options.listenHost, port: options.listenPort, metrics: metrics, group: group)
        } catch {
            throw StartupError("cannot listen on \(options.listenHost):\(options.listenPort): \(error)")
        }
        logger.info("started", metadata: [
            "listen": "\(options.listenHost):\(server.localAddress?.port ?? options.listenPort)",
            "server": "\(client.connection.server)",
            "deployment": "\(config.namespace)/\(config.deployment)", "dry-run": "\(config.dryRun)",
            "leader-election": "\(config.leaderElection)",
        ])

        // A watch that went silent is noticed and replaced within one interval.
        let informer = PodInformer(
            client: client, namespace: config.namespace, labelSelector: config.selector,
            staleness: config.interval.seconds, logger: logger)
        let elector = config.leaderElection
            ? LeaderElector(
                client: leaseClient(client, timing: options.leaderTiming, logger: logger),
                namespace: options.leaseNamespace ?? config.namespace, name: "\(config.deployment)-operator",
                identity: options.identity, timing: options.leaderTiming, logger: logger)
            : nil
        let term: @Sendable () -> Int? = { elector == nil ? 0 : elector?.term }
        let deadline: @Sendable () -> ContinuousClock.Instant? = { elector?.deadline }
        let controller = Controller.Dependencies(
            config: config, client: client, informer: informer,
            scraper: PodScraper(
                executor: client.executor, port: config.metricsPort, scheme: config.metricsScheme, work: config.work,
                timeout: min(5, max(0.5, config.interval.seconds / 2)), logger: logger),
            applier: ActionApplier(
                client: client, namespace: config.namespace, deployment: config.deployment, dryRun: config.dryRun,
                events: events, metrics: metrics, logger: logger),
            metrics: metrics, logger: logger, term: term, deadline: deadline)

        let informerTask = Task { await informer.run() }
        let electorTask = Task { await elector?.run() }
        let controllerTask = Task { await Controller(controller).run() }

        let signal = await shutdown.next() ?? SIGTERM
        logger.notice("stopping", metadata: ["signal": "\(signal)"])
        // Stop acting first, then hand the Lease back, then stop watching.
        controllerTask.cancel()
        await controllerTask.value
        electorTask.cancel()
        await electorTask.value
        informerTask.cancel()
        await informerTask.value
        try? await server.close()
        logger.notice("stopped")
    }

    /// The elector tries again every retry period by itself; its requests must
    /// give up well within the renew deadline, or a leader stuck in retries
    /// would keep acting after it should have stepped down.
    private static func leaseClient(_ client: KubernetesClient, timing: LeaderElector.Timing, logger: Logger) -> KubernetesClient {
        let budget = timing.renewDeadline.seconds
        return KubernetesClient(
            connection: client.connection, executor: client.executor,
            retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.1, maxDelay: budget / 10, maxRetryAfter: budget / 10),
            requestTimeout: budget / 3, logger: logger)
    }

    /// SPEC §6.4: the operator owns the replica count, so it will not start
    /// beside a HorizontalPodAutoscaler of the same Deployment.
    private static func refuseCompetingAutoscaler(config: OperatorConfig, client: KubernetesClient, events: EventRecorder) async throws {
        let autoscalers: [HorizontalPodAutoscaler]
        do {
            autoscalers = try await client.listHorizontalPodAutoscalers(namespace: config.namespace)
        } catch {
            throw StartupError("cannot check for HorizontalPodAutoscalers in \(config.namespace): \(error)")
        }
        if let autoscaler = autoscalers.first(where: { $0.targets(deployment: config.deployment) }) {
            let message = "HorizontalPodAutoscaler \(autoscaler.metadata.name ?? "?") targets Deployment "
                + "\(config.namespace)/\(config.deployment); tig-operator owns its replicas and refuses to start"
            if !config.dryRun { await events.post(reason: "Refused", message: message, warning: true) }
            throw StartupError(message)
        }
    }
}
