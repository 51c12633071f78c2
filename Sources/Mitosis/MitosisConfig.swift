/// The knobs of the Mitosis policy, in plain numbers (seconds, work units per
/// second) so the policy needs no clock or time library of its own.
public struct MitosisConfig: Sendable, Equatable {
    /// A pod's nominal life in seconds, before jitter.
    public var lifetime: Double
    /// Each pod's life is `lifetime · (1 + u)` with `u` in `[-lifetimeJitter, +lifetimeJitter)`
    /// fixed by its UID, so pods started together do not all expire together.
    public var lifetimeJitter: Double
    /// Work per second that one pod normally does (a load ratio of 1).
    public var normalRate: Double
    /// Dead band around the current replica count in which neither a divide
    /// nor an under-loaded retirement happens.
    public var tolerance: Double
    public var minReplicas: Int
    public var maxReplicas: Int
    /// A pod's work counts only once it has been counted for this many
    /// seconds; a shorter window gives a meaningless rate (a pod a second old
    /// that answered one request would look hundreds of times overworked).
    /// The operator passes its scrape interval.
    public var minimumWindow: Double
    /// How long a surge pod may take to become Ready before the surge is
    /// undone (and tried again as long after).
    public var surgeTimeout: Double

    public init(
        lifetime: Double, lifetimeJitter: Double, normalRate: Double, tolerance: Double,
        minReplicas: Int, maxReplicas: Int, minimumWindow: Double, surgeTimeout: Double = 600
    ) {
        self.surgeTimeout = surgeTimeout
        self.lifetime = lifetime
        self.lifetimeJitter = lifetimeJitter
        self.normalRate = normalRate
        self.tolerance = tolerance
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas
        self.minimumWindow = minimumWindow
    }
}
