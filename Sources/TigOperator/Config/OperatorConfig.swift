import Mitosis

/// The operator's settings (SPEC §6.4), as read from its YAML file.
/// `operator/config.yaml` documents the same defaults.
public struct OperatorConfig: Sendable, Equatable {
    /// What a pod's work is measured in.
    public enum Work: String, Sendable, Equatable, CaseIterable {
        /// Sum of every `tig_requests_total` series.
        case requests
        /// `tig_bytes_received_total + tig_bytes_sent_total`.
        case bytes
    }

    public enum MetricsScheme: String, Sendable, Equatable, CaseIterable {
        case http
        case https
    }

    public var namespace = "default"
    /// The Deployment the operator scales.
    public var deployment = "tig"
    /// Label selector of the Deployment's pods.
    public var selector = "app.kubernetes.io/name=tig"
    /// Port of each pod's admin listener, which serves `/metrics`.
    public var metricsPort = 9090
    /// How to reach it: the admin listener is plain HTTP; `https` for a
    /// proxy in front of it that serves TLS (its certificate names a host,
    /// not the pod's IP, so it is not verified).
    public var metricsScheme = MetricsScheme.http
    public var work = Work.requests
    /// A pod's life before jitter.
    public var lifetime = Duration.seconds(3600)
    /// ±fraction of the lifetime, fixed per pod from its UID.
    public var lifetimeJitter = 0.2
    /// Work per second one pod normally does.
    public var normalRate = 200.0
    public var tolerance = 0.1
    public var minReplicas = 2
    public var maxReplicas = 10
    /// How often the operator scrapes and decides.
    public var interval = Duration.seconds(15)
    /// How long a surge pod may take to become Ready before the surge is undone.
    public var surgeTimeout = Duration.seconds(600)
    public var leaderElection = true
    /// Log decisions without acting on them.
    public var dryRun = false

    public init() {}

    /// The policy's view: plain seconds. A pod's rate counts once it has
    /// been measured over at least one interval.
    public var mitosis: MitosisConfig {
        MitosisConfig(
            lifetime: lifetime.seconds, lifetimeJitter: lifetimeJitter, normalRate: normalRate, tolerance: tolerance,
            minReplicas: minReplicas, maxReplicas: maxReplicas, minimumWindow: interval.seconds,
            surgeTimeout: surgeTimeout.seconds)
    }
}

extension Duration {
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
