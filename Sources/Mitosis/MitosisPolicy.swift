/// The Mitosis scaling policy (SPEC §6.4): a pure function from what the
/// operator observed to what it should do. No I/O and no clock of its own.
///
/// Rules, in order of precedence:
/// 1. A HorizontalPodAutoscaler on the same Deployment: refuse, do nothing.
/// 2. Replicas outside [minReplicas, maxReplicas] (set by hand, or the
///    config changed): bring them back inside, nothing else this interval.
/// 3. Divide: desired = ceil(Σ r_i) over ready pods; if desired exceeds
///    replicas · (1 + tolerance), raise replicas to min(desired, maxReplicas).
///    A retirement in progress waits for the next interval.
/// 4. Retire expired pods (age ≥ their jittered life), one at a time, make
///    before break; see `RetirementPlanner`.
///
/// Thresholds are strict: load exactly at replicas · (1 ± tolerance) does nothing.
///
/// Edge cases, and what the policy does about them:
/// - Age or work window 0, or shorter than `minimumWindow`: the rate is
///   meaningless (division by ~0), so the pod counts as unmeasured.
/// - Unmeasured ready pods (no scrape yet, scrape failed, just restarted)
///   count at ratio 1: not idle, so they never make the cluster look
///   under-loaded; not overworked, so they never cause a divide.
/// - Not-ready and terminating pods are not in Σ r_i, but `replicas` is the
///   Deployment's spec: pods still starting after a divide keep the next
///   interval from dividing again.
/// - Counter resets (container restart) start a new baseline (`WorkLedger`).
/// - The pod being retired, once marked, leaves Σ r_i: replicas no longer
///   include it, and counting it too would divide straight back.
/// - Retirement state spans intervals (`Retirement`) and survives a change
///   of leader through the marks on the pods.
/// - At maxReplicas no surge is possible: the expired pod retires without
///   one if the others can carry on; with minReplicas == maxReplicas it
///   waits rather than drop below minReplicas.
/// - A scale-in waits until every other live pod is Ready, because the
///   ReplicaSet removes not-ready pods before it looks at deletion costs.
/// - Expired pods that are not Ready still retire make-before-break.
public enum MitosisPolicy {
    public static func decide(_ observation: Observation, config: MitosisConfig) -> Decision {
        let retirement = observation.retirement ?? RetirementPlanner.recovered(from: observation.pods)
        // A marked pod is on its way out and replicas no longer include it; its
        // replacement already counts (at ratio 1 until measured). Counting both
        // would look like one pod too many of load and divide straight back.
        let leaving = retirement?.phase == .marked ? retirement?.podUID : nil
        let load = LoadEstimate(
            pods: observation.pods.filter { $0.uid != leaving }, now: observation.now, config: config)
        let replicas = observation.replicas

        if let autoscaler = observation.competingAutoscaler {
            let message = "HorizontalPodAutoscaler \(autoscaler) targets the same Deployment; not acting while it exists"
            return Decision(actions: [.refuse(message: message)], retirement: retirement, load: load)
        }
        if replicas < config.minReplicas {
            let message = "replicas \(replicas) are below minReplicas \(config.minReplicas)"
            return Decision(
                actions: [.setReplicas(config.minReplicas, reason: .divide, message: message)],
                retirement: retirement, load: load)
        }
        if replicas > config.maxReplicas {
            let message = "replicas \(replicas) are above maxReplicas \(config.maxReplicas)"
            return Decision(
                actions: [.setReplicas(config.maxReplicas, reason: .retire, message: message)],
                retirement: retirement, load: load)
        }

        let divided = min(load.desired, config.maxReplicas)
        if isAbove(load.desired, replicas: replicas, by: config.tolerance), divided > replicas {
            let message = "load \(rounded(load.total)) needs \(load.desired) pods, more than \(replicas) × (1 + \(config.tolerance)); "
                + "replicas \(replicas) → \(divided)"
            return Decision(
                actions: [.setReplicas(divided, reason: .divide, message: message)],
                retirement: retirement, load: load)
        }

        return RetirementPlanner(observation: observation, retirement: retirement, config: config, load: load).plan()
    }

    /// desired > replicas · (1 + tolerance), with slack for binary fractions
    /// such as 1.1 so that "exactly at the tolerance" never divides.
    static func isAbove(_ desired: Int, replicas: Int, by tolerance: Double) -> Bool {
        Double(desired) > Double(replicas) * (1 + tolerance) + LoadEstimate.epsilon
    }

    /// desired < replicas · (1 − tolerance), with the same slack.
    static func isBelow(_ desired: Int, replicas: Int, by tolerance: Double) -> Bool {
        Double(desired) < Double(replicas) * (1 - tolerance) - LoadEstimate.epsilon
    }

    /// Two decimals are enough for a human reading an Event.
    static func rounded(_ value: Double) -> Double {
        (value * 100).rounded() / 100
    }
}
