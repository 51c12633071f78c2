import Mitosis

/// The annotations the operator reads and writes on pods.
enum PodAnnotations {
    /// Read by the ReplicaSet controller: on scale-in, the pod with the lowest
    /// cost goes first.
    static let deletionCost = "controller.kubernetes.io/pod-deletion-cost"
    static let retiringCost = "-1000"
    /// The operator's own mark, `surging` or `marked`, so that a new leader
    /// picks up a retirement where the previous one left it.
    static let retirement = "tig-operator/retirement"

    static func marking(_ phase: RetirementPhase) -> [String: String] {
        switch phase {
        case .surging: [retirement: phase.rawValue]
        case .marked: [retirement: phase.rawValue, deletionCost: retiringCost]
        }
    }
}
