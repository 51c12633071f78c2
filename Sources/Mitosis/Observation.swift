/// Everything the policy looks at in one interval. Times are seconds on one
/// clock (the operator uses seconds since the Unix epoch); `now` is an input,
/// so tests drive the policy with a fake clock.
public struct Observation: Sendable, Equatable {
    public var now: Double
    /// The Deployment's `spec.replicas` (from its `/scale` subresource).
    public var replicas: Int
    /// Every pod the Deployment's selector matches, in any state.
    public var pods: [PodState]
    /// Name of a HorizontalPodAutoscaler that targets the same Deployment, if any.
    public var competingAutoscaler: String?
    /// The retirement this operator started in an earlier interval, if any.
    /// When nil, a retirement started by a previous leader is recovered from
    /// the pods' retirement marks.
    public var retirement: Retirement?

    public init(
        now: Double, replicas: Int, pods: [PodState],
        competingAutoscaler: String? = nil, retirement: Retirement? = nil
    ) {
        self.now = now
        self.replicas = replicas
        self.pods = pods
        self.competingAutoscaler = competingAutoscaler
        self.retirement = retirement
    }
}

public struct PodState: Sendable, Equatable {
    public var uid: String
    public var name: String
    /// When the pod was created: its age, and so its expiry, counts from here.
    public var createdAt: Double
    public var ready: Bool
    /// The pod has a deletionTimestamp: it is draining and no longer counts.
    public var terminating: Bool
    /// Work counted so far; nil while the pod has not been scraped successfully.
    public var work: WorkSample?
    /// The retirement mark an operator left on the pod (an annotation).
    public var retirementMark: RetirementPhase?

    public init(
        uid: String, name: String, createdAt: Double, ready: Bool, terminating: Bool = false,
        work: WorkSample? = nil, retirementMark: RetirementPhase? = nil
    ) {
        self.uid = uid
        self.name = name
        self.createdAt = createdAt
        self.ready = ready
        self.terminating = terminating
        self.work = work
        self.retirementMark = retirementMark
    }
}

/// Work a pod did since `since` (when its counter started, or the baseline
/// taken after a counter reset).
public struct WorkSample: Sendable, Equatable {
    public var amount: Double
    public var since: Double

    public init(amount: Double, since: Double) {
        self.amount = amount
        self.since = since
    }
}
