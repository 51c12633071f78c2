/// What the command line and environment decide, as opposed to the config file.
public struct OperatorOptions: Sendable {
    public var configPath: String
    /// nil: in-cluster service account.
    public var kubeconfig: String?
    public var listenHost: String
    public var listenPort: Int
    public var leaderTiming: LeaderElector.Timing
    /// The Lease holder's name: the pod name (downward API) where there is one.
    public var identity: String
    /// Where the Lease lives: the operator pod's namespace, else the config's.
    public var leaseNamespace: String?

    public init(
        configPath: String, kubeconfig: String?, listenHost: String, listenPort: Int, leaderTiming: LeaderElector.Timing,
        identity: String, leaseNamespace: String?
    ) {
        self.configPath = configPath
        self.kubeconfig = kubeconfig
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.leaderTiming = leaderTiming
        self.identity = identity
        self.leaseNamespace = leaseNamespace
    }
}

/// The operator cannot start; the message says why.
public struct StartupError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
