/// What the policy wants done in one interval, in order. The operator applies
/// the actions in order and stops at the first failure: a pod is always marked
/// before the scale-in that should remove it, and a surge is requested before
/// its pod is marked as retiring.
public struct Decision: Sendable, Equatable {
    public var actions: [Action]
    /// The retirement to carry into the next interval.
    public var retirement: Retirement?
    public var load: LoadEstimate
    /// Why the policy is holding back, when it is (for logs).
    public var waiting: String?

    public init(actions: [Action], retirement: Retirement?, load: LoadEstimate, waiting: String? = nil) {
        self.actions = actions
        self.retirement = retirement
        self.load = load
        self.waiting = waiting
    }
}

public enum Action: Sendable, Equatable {
    /// Set the Deployment's replicas (its `/scale` subresource).
    case setReplicas(Int, reason: Reason, message: String)
    /// Record on the pod that it is being retired. `.marked` also sets
    /// `controller.kubernetes.io/pod-deletion-cost: "-1000"`, so the next
    /// scale-in removes exactly this pod.
    case markPod(name: String, uid: String, phase: RetirementPhase, message: String)
    /// Do nothing, and say why (another autoscaler owns the Deployment).
    case refuse(message: String)

    public var reason: Reason {
        switch self {
        case .setReplicas(_, let reason, _): reason
        case .markPod(_, _, let phase, _): phase == .surging ? .surge : .retire
        case .refuse: .refused
        }
    }

    /// The replica count this action sets, if it is a scale.
    public var replicas: Int? {
        if case .setReplicas(let replicas, _, _) = self { replicas } else { nil }
    }

    public var message: String {
        switch self {
        case .setReplicas(_, _, let message), .markPod(_, _, _, let message), .refuse(let message): message
        }
    }
}

/// The Kubernetes Event reason posted for each action.
public enum Reason: String, Sendable, Equatable, CaseIterable {
    case divide = "Divide"
    case surge = "Surge"
    case retire = "Retire"
    /// A surge pod did not become Ready in time: the surge is undone.
    case surgeTimedOut = "SurgeTimedOut"
    /// The scale-in removed another pod than the marked one.
    case wrongPodRemoved = "WrongPodRemoved"
    case refused = "Refused"
}

/// A retirement in progress: one pod at a time.
public struct Retirement: Sendable, Equatable {
    public var podUID: String
    public var podName: String
    public var phase: RetirementPhase
    /// `.marked`: the replicas the scale-in set. If the pod is still there
    /// once that many remain, the ReplicaSet removed another pod.
    public var scaledInTo: Int?
    /// `.surging`: when the surge was asked for (its deadline counts from there).
    public var surgedAt: Double?
    /// `.surging`: a surge that timed out was undone; the next is tried then.
    public var retryAt: Double?

    public init(
        podUID: String, podName: String, phase: RetirementPhase, scaledInTo: Int? = nil, surgedAt: Double? = nil,
        retryAt: Double? = nil
    ) {
        self.podUID = podUID
        self.podName = podName
        self.phase = phase
        self.scaledInTo = scaledInTo
        self.surgedAt = surgedAt
        self.retryAt = retryAt
    }
}

public enum RetirementPhase: String, Sendable, Equatable {
    /// Replicas were raised by one; waiting for the new pod to be Ready.
    case surging
    /// Marked with the deletion cost and replicas lowered; waiting for the pod to go.
    case marked
}
