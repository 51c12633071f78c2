@testable import Mitosis

/// SPEC §6.4's defaults, without jitter so that expiry times are exact.
func config(
    lifetime: Double = 3600, jitter: Double = 0, normalRate: Double = 200, tolerance: Double = 0.1,
    min: Int = 2, max: Int = 10, window: Double = 15
) -> MitosisConfig {
    MitosisConfig(
        lifetime: lifetime, lifetimeJitter: jitter, normalRate: normalRate, tolerance: tolerance,
        minReplicas: min, maxReplicas: max, minimumWindow: window)
}

/// A fake clock: the tests move `now` by hand.
struct FakeClock {
    var now: Double = 1_000_000
    mutating func advance(_ seconds: Double) { now += seconds }
}

/// A ready pod of the given age whose counter has run since it was created,
/// at `ratio` times the normal pace of 200 per second.
func pod(
    _ name: String, age: Double, ratio: Double? = 1, ready: Bool = true, terminating: Bool = false,
    mark: RetirementPhase? = nil, now: Double, normalRate: Double = 200
) -> PodState {
    let created = now - age
    return PodState(
        uid: "uid-\(name)", name: name, createdAt: created, ready: ready, terminating: terminating,
        work: ratio.map { WorkSample(amount: $0 * normalRate * age, since: created) },
        retirementMark: mark)
}

func decide(
    _ pods: [PodState], replicas: Int, now: Double, config: MitosisConfig = config(),
    hpa: String? = nil, retirement: Retirement? = nil
) -> Decision {
    MitosisPolicy.decide(
        Observation(now: now, replicas: replicas, pods: pods, competingAutoscaler: hpa, retirement: retirement),
        config: config)
}

extension Decision {
    var replicasSet: Int? {
        actions.compactMap { if case .setReplicas(let n, _, _) = $0 { n } else { nil } }.last
    }
    var marks: [String: RetirementPhase] {
        Dictionary(
            uniqueKeysWithValues: actions.compactMap {
                if case .markPod(let name, _, let phase, _) = $0 { (name, phase) } else { nil }
            })
    }
    var reasons: [Reason] { actions.map(\.reason) }
}
