@testable import Mitosis
import Testing

@Suite struct DivideTests {
    let now = FakeClock().now

    func pods(_ ratios: [Double]) -> [PodState] {
        ratios.enumerated().map { pod("p\($0.offset)", age: 600, ratio: $0.element, now: now) }
    }

    @Test func dividesWhenDesiredExceedsReplicasPlusTolerance() {
        // Σ r = 2.4 → desired 3 > 2 × 1.1.
        let decision = decide(pods([1.2, 1.2]), replicas: 2, now: now)
        #expect(decision.actions.count == 1)
        #expect(decision.replicasSet == 3)
        #expect(decision.reasons == [.divide])
    }

    @Test func exactlyAtTheToleranceDoesNothing() {
        // 10 pods, desired 11 = 10 × 1.1 exactly: not above it.
        let decision = decide(pods(Array(repeating: 1.1, count: 10)), replicas: 10, now: now, config: config(max: 20))
        #expect(decision.load.desired == 11)
        #expect(decision.actions.isEmpty)
    }

    @Test func justAboveTheToleranceDivides() {
        let decision = decide(pods(Array(repeating: 1.11, count: 10)), replicas: 10, now: now, config: config(max: 20))
        #expect(decision.load.desired == 12)
        #expect(decision.replicasSet == 12)
    }

    @Test func divideIsCappedAtMaxReplicas() {
        let decision = decide(pods([20, 20]), replicas: 2, now: now, config: config(max: 10))
        #expect(decision.replicasSet == 10)
    }

    @Test func atMaxReplicasAnOverloadChangesNothing() {
        let decision = decide(pods(Array(repeating: 5, count: 10)), replicas: 10, now: now, config: config(max: 10))
        #expect(decision.actions.isEmpty)
    }

    @Test func podsStillStartingCountInReplicasSoADivideIsNotRepeated() {
        // Divided from 2 to 6; the 4 new pods are not Ready. Σ r over the 2 ready pods
        // is still 6, which does not exceed the 6 replicas already asked for.
        var all = pods([3, 3])
        all += (0..<4).map { pod("new\($0)", age: 5, ratio: nil, ready: false, now: now) }
        #expect(decide(all, replicas: 6, now: now).actions.isEmpty)
    }

    @Test func unmeasuredReadyPodsAddTheirNormalShare() {
        // Two overworked pods and two fresh Ready pods with no metrics: Σ = 2.5 + 2.5 + 1 + 1 = 7 > 4.4.
        var all = pods([2.5, 2.5])
        all += [pod("n0", age: 5, ratio: nil, now: now), pod("n1", age: 5, ratio: nil, now: now)]
        #expect(decide(all, replicas: 4, now: now).replicasSet == 7)
    }

    @Test func divideTakesPrecedenceOverRetirementAndKeepsItsState() {
        let old = pod("old", age: 4000, ratio: 3, now: now)
        let retirement = Retirement(podUID: old.uid, podName: old.name, phase: .surging)
        let decision = decide([old, pod("b", age: 600, ratio: 3, now: now)], replicas: 3, now: now, retirement: retirement)
        #expect(decision.reasons == [.divide])
        #expect(decision.replicasSet == 6)
        #expect(decision.retirement == retirement)
    }
}

@Suite struct BoundsTests {
    let now = FakeClock().now

    @Test func replicasBelowMinReplicasAreRaised() {
        let decision = decide([pod("a", age: 600, now: now)], replicas: 1, now: now, config: config(min: 2))
        #expect(decision.replicasSet == 2)
        #expect(decision.reasons == [.divide])
    }

    @Test func replicasAboveMaxReplicasAreLowered() {
        let decision = decide([], replicas: 12, now: now, config: config(max: 10))
        #expect(decision.replicasSet == 10)
        #expect(decision.reasons == [.retire])
    }

    @Test func anIdleClusterAtMinReplicasIsLeftAlone() {
        let pods = [pod("a", age: 600, ratio: 0, now: now), pod("b", age: 600, ratio: 0, now: now)]
        #expect(decide(pods, replicas: 2, now: now).actions.isEmpty)
    }
}

@Suite struct RefusalTests {
    let now = FakeClock().now

    @Test func aCompetingAutoscalerStopsEveryAction() {
        let pods = [pod("a", age: 4000, ratio: 9, now: now), pod("b", age: 600, ratio: 9, now: now)]
        let retirement = Retirement(podUID: "uid-a", podName: "a", phase: .surging)
        let decision = decide(pods, replicas: 1, now: now, hpa: "tig-hpa", retirement: retirement)
        #expect(decision.reasons == [.refused])
        #expect(decision.actions.first?.message.contains("tig-hpa") == true)
        #expect(decision.retirement == retirement)
    }
}
