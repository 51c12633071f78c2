@testable import Mitosis
import Testing

@Suite struct RetirementTests {
    let now = FakeClock().now

    @Test func expiresExactlyAtItsLifetime() {
        let atLife = decide([pod("old", age: 3600, now: now), pod("b", age: 60, now: now)], replicas: 2, now: now)
        #expect(atLife.reasons == [.surge, .surge])
        let before = decide([pod("old", age: 3599.999, now: now), pod("b", age: 60, now: now)], replicas: 2, now: now)
        #expect(before.actions.isEmpty)
    }

    @Test func surgesFirstThenWaitsForTheNewPodThenRetires() {
        var clock = FakeClock()
        // Interval 1: pod "old" expired at normal load: replicas 3 → 4, old marked surging.
        var pods = [pod("old", age: 3700, now: clock.now), pod("b", age: 600, now: clock.now), pod("c", age: 600, now: clock.now)]
        let first = decide(pods, replicas: 3, now: clock.now)
        #expect(first.actions.map(\.reason) == [.surge, .surge])
        #expect(first.replicasSet == 4)
        #expect(first.marks == ["old": .surging])
        #expect(first.retirement?.phase == .surging)
        // Surge first, then mark: a crash in between leaves one pod too many, never one too few.
        guard case .setReplicas = first.actions.first else {
            Issue.record("the surge must come before the mark")
            return
        }

        // Interval 2: the surge pod exists but is not Ready: wait.
        clock.advance(15)
        pods.append(pod("surge", age: 3, ratio: nil, ready: false, now: clock.now))
        let second = decide(pods, replicas: 4, now: clock.now, retirement: first.retirement)
        #expect(second.actions.isEmpty)
        #expect(second.retirement == first.retirement)
        #expect(second.waiting != nil)

        // Interval 3: Ready: mark old with the deletion cost, then lower replicas.
        clock.advance(15)
        pods[3].ready = true
        let third = decide(pods, replicas: 4, now: clock.now, retirement: second.retirement)
        #expect(third.reasons == [.retire, .retire])
        #expect(third.marks == ["old": .marked])
        #expect(third.replicasSet == 3)
        guard case .markPod = third.actions.first else {
            Issue.record("the mark must come before the scale-in")
            return
        }
        #expect(third.retirement?.phase == .marked)

        // Interval 4: the ReplicaSet has not acted yet: wait, do not lower again.
        let fourth = decide(pods, replicas: 3, now: clock.now, retirement: third.retirement)
        #expect(fourth.actions.isEmpty)
        #expect(fourth.retirement == third.retirement)

        // Interval 5: old is draining: the retirement is over.
        pods[0].terminating = true
        let fifth = decide(pods, replicas: 3, now: clock.now, retirement: fourth.retirement)
        #expect(fifth.actions.isEmpty)
        #expect(fifth.retirement == nil)
    }

    @Test func retiresOnePodAtATimeTheMostOverdueFirst() {
        let pods = [
            pod("a", age: 3700, now: now), pod("b", age: 3900, now: now), pod("c", age: 3800, now: now),
        ]
        let first = decide(pods, replicas: 3, now: now)
        #expect(first.marks == ["b": .surging])
        // While b retires, a and c, also expired, are not touched.
        var withSurge = pods
        withSurge.append(pod("s", age: 1, ratio: nil, ready: false, now: now))
        let second = decide(withSurge, replicas: 4, now: now, retirement: first.retirement)
        #expect(second.actions.isEmpty)
        // Once b is gone, the next one (c) starts.
        var afterB = withSurge.filter { $0.name != "b" }
        afterB[afterB.count - 1].ready = true
        let third = decide(afterB, replicas: 3, now: now, retirement: Retirement(podUID: "uid-b", podName: "b", phase: .marked))
        #expect(third.marks == ["c": .surging])
    }

    @Test func underLoadedRetiresWithoutASurge() {
        // Σ r = 0.3 × 4 = 1.2 → desired 2 < 4 × 0.9.
        let pods = (0..<4).map { pod("p\($0)", age: $0 == 0 ? 3700 : 600, ratio: 0.3, now: now) }
        let decision = decide(pods, replicas: 4, now: now)
        #expect(decision.marks == ["p0": .marked])
        #expect(decision.replicasSet == 3)
        #expect(decision.retirement?.phase == .marked)
    }

    @Test func exactlyAtTheLowerToleranceIsNotUnderLoaded() {
        // 10 pods, desired 9 = 10 × 0.9 exactly: a rotation with a surge, not a shrink.
        let pods = (0..<10).map { pod("p\($0)", age: $0 == 0 ? 3700 : 600, ratio: 0.9, now: now) }
        let decision = decide(pods, replicas: 10, now: now, config: config(max: 20))
        #expect(decision.load.desired == 9)
        #expect(decision.replicasSet == 11)
        #expect(decision.marks == ["p0": .surging])
    }

    @Test func underLoadedAtMinReplicasRotatesWithASurge() {
        let pods = [pod("a", age: 3700, ratio: 0, now: now), pod("b", age: 600, ratio: 0, now: now)]
        let decision = decide(pods, replicas: 2, now: now, config: config(min: 2))
        #expect(decision.replicasSet == 3)
        #expect(decision.marks == ["a": .surging])
    }

    @Test func underLoadedWaitsWhileAnotherPodIsNotReady() {
        // Lowering replicas now would make the ReplicaSet remove the not-ready pod, not the expired one.
        let pods = [
            pod("a", age: 3700, ratio: 0.1, now: now), pod("b", age: 600, ratio: 0.1, now: now),
            pod("c", age: 600, ratio: 0.1, now: now), pod("d", age: 10, ratio: nil, ready: false, now: now),
        ]
        let decision = decide(pods, replicas: 4, now: now)
        #expect(decision.actions.isEmpty)
        #expect(decision.retirement == nil)
        #expect(decision.waiting != nil)
    }

    @Test func surgeWaitsWhileAnyOtherPodIsNotReady() {
        let pods = [
            pod("a", age: 3700, now: now), pod("b", age: 600, now: now),
            pod("s", age: 20, ratio: nil, ready: false, now: now),
        ]
        let retirement = Retirement(podUID: "uid-a", podName: "a", phase: .surging)
        let decision = decide(pods, replicas: 3, now: now, retirement: retirement)
        #expect(decision.actions.isEmpty)
        // Still surging; the surge's deadline counts from when it was first seen.
        #expect(decision.retirement == Retirement(podUID: "uid-a", podName: "a", phase: .surging, surgedAt: now))
    }

    @Test func surgeWaitsUntilTheSurgePodExists() {
        // replicas raised to 3 but the ReplicaSet has not created the pod yet.
        let pods = [pod("a", age: 3700, now: now), pod("b", age: 600, now: now)]
        let retirement = Retirement(podUID: "uid-a", podName: "a", phase: .surging)
        #expect(decide(pods, replicas: 3, now: now, retirement: retirement).actions.isEmpty)
    }

    @Test func atMaxReplicasRetiresWithoutASurgeWhenTheOthersCanCarryOn() {
        let pods = (0..<4).map { pod("p\($0)", age: $0 == 0 ? 3700 : 600, ratio: 1, now: now) }
        let decision = decide(pods, replicas: 4, now: now, config: config(min: 2, max: 4))
        #expect(decision.replicasSet == 3)
        #expect(decision.marks == ["p0": .marked])
    }

    @Test func minEqualToMaxNeverRetiresBelowTheMinimum() {
        let pods = [pod("a", age: 3700, now: now), pod("b", age: 600, now: now)]
        let decision = decide(pods, replicas: 2, now: now, config: config(min: 2, max: 2))
        #expect(decision.actions.isEmpty)
        #expect(decision.waiting != nil)
    }

    @Test func aNotReadyExpiredPodAlsoRetiresMakeBeforeBreak() {
        let pods = [
            pod("a", age: 3700, ready: false, now: now), pod("b", age: 600, ratio: 1.4, now: now),
            pod("c", age: 600, ratio: 1.4, now: now),
        ]
        let decision = decide(pods, replicas: 3, now: now)
        #expect(decision.replicasSet == 4)
        #expect(decision.marks == ["a": .surging])
    }

    @Test func aRetirementStartedByAPreviousLeaderIsRecoveredFromThePodMarks() {
        let pods = [
            pod("a", age: 3700, mark: .surging, now: now), pod("b", age: 600, now: now),
            pod("c", age: 600, now: now), pod("s", age: 30, now: now),
        ]
        let decision = decide(pods, replicas: 4, now: now, retirement: nil)
        #expect(decision.marks == ["a": .marked])
        #expect(decision.replicasSet == 3)
    }

    @Test func aRecoveredMarkedPodIsNotLoweredAgain() {
        let pods = [pod("a", age: 3700, mark: .marked, now: now), pod("b", age: 600, now: now), pod("c", age: 600, now: now)]
        // replicas already lowered to 2; the ReplicaSet has yet to remove a.
        let decision = decide(pods, replicas: 2, now: now, retirement: nil)
        #expect(decision.actions.isEmpty)
        #expect(decision.retirement == Retirement(podUID: "uid-a", podName: "a", phase: .marked))
    }

    @Test func aMarkedPodWhoseScaleInWasAbsorbedIsRetiredAgain() {
        // Marked and lowered to 2, then a divide raised replicas to 3 before the ReplicaSet acted.
        let pods = [pod("a", age: 3700, now: now), pod("b", age: 600, now: now), pod("c", age: 600, now: now)]
        let retirement = Retirement(podUID: "uid-a", podName: "a", phase: .marked)
        let decision = decide(pods, replicas: 3, now: now, retirement: retirement)
        #expect(decision.marks == ["a": .marked])
        #expect(decision.replicasSet == 2)
    }

    @Test func aRetiringPodThatVanishedEndsTheRetirement() {
        let pods = [pod("b", age: 600, now: now), pod("c", age: 600, now: now)]
        let retirement = Retirement(podUID: "uid-a", podName: "a", phase: .surging)
        let decision = decide(pods, replicas: 3, now: now, retirement: retirement)
        #expect(decision.actions.isEmpty)
        #expect(decision.retirement == nil)
    }

    @Test func theMarkedPodsLoadIsNotCountedTwice() {
        // Just after the scale-in to 3: four Ready pods at the normal pace, one of them
        // marked. Counting it would make desired 4 > 3 × 1.1 and divide straight back.
        let pods = (0..<4).map { pod("p\($0)", age: $0 == 0 ? 3700 : 600, now: now) }
        let retirement = Retirement(podUID: "uid-p0", podName: "p0", phase: .marked)
        let decision = decide(pods, replicas: 3, now: now, retirement: retirement)
        #expect(decision.load.desired == 3)
        #expect(decision.actions.isEmpty)
    }

    @Test func terminatingPodsAreNeverPickedAgain() {
        let pods = [pod("a", age: 3700, terminating: true, now: now), pod("b", age: 600, now: now), pod("c", age: 600, now: now)]
        #expect(decide(pods, replicas: 2, now: now).actions.isEmpty)
    }
}
