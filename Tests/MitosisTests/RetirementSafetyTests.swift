@testable import Mitosis
import Testing

/// Make-before-break when the cluster does not do as asked: the ReplicaSet
/// removes another pod than the marked one, or a surge pod never becomes Ready.
@Suite struct RetirementSafetyTests {
    @Test func whenTheScaleInRemovedAnotherPodCapacityIsRestoredBeforeRetiringAgain() {
        let now = FakeClock().now
        // Four pods, "old" expired and its surge pod "s" Ready: mark old, 4 → 3.
        var pods = [pod("old", age: 3700, now: now), pod("b", age: 600, now: now), pod("c", age: 600, now: now), pod("s", age: 60, now: now)]
        let retire = decide(pods, replicas: 4, now: now, retirement: Retirement(podUID: "uid-old", podName: "old", phase: .surging))
        #expect(retire.marks == ["old": .marked] && retire.replicasSet == 3)
        // The ReplicaSet removed "c" instead (its view of readiness lagged).
        pods.remove(at: 2)
        let after = decide(pods, replicas: 3, now: now + 15, retirement: retire.retirement)
        #expect(after.reasons.first == .wrongPodRemoved)
        #expect(after.replicasSet == 4, "a new surge first: never a second scale-in without one")
        #expect(after.marks == ["old": .surging])
        #expect(after.retirement?.phase == .surging)
    }

    @Test func whileTheReplicaSetHasNotActedTheMarkedPodIsAwaited() {
        let now = FakeClock().now
        let pods = [pod("old", age: 3700, now: now), pod("b", age: 600, now: now), pod("c", age: 600, now: now), pod("s", age: 60, now: now)]
        let marked = Retirement(podUID: "uid-old", podName: "old", phase: .marked, scaledInTo: 3)
        let decision = decide(pods, replicas: 3, now: now, retirement: marked)
        #expect(decision.actions.isEmpty && decision.retirement == marked)
    }

    @Test func aSurgeThatNeverBecomesReadyIsUndoneAndTriedAgainLater() {
        var clock = FakeClock()
        let timeout = 600.0
        let settings = MitosisConfig(
            lifetime: 3600, lifetimeJitter: 0, normalRate: 200, tolerance: 0.1, minReplicas: 2, maxReplicas: 10,
            minimumWindow: 15, surgeTimeout: timeout)
        var pods = [pod("old", age: 3700, now: clock.now), pod("b", age: 600, now: clock.now), pod("c", age: 600, now: clock.now)]
        let surge = decide(pods, replicas: 3, now: clock.now, config: settings)
        #expect(surge.replicasSet == 4)
        pods.append(pod("s", age: 1, ratio: nil, ready: false, now: clock.now))
        clock.advance(timeout - 1)
        let waiting = decide(pods, replicas: 4, now: clock.now, config: settings, retirement: surge.retirement)
        #expect(waiting.actions.isEmpty, "not yet at the deadline")
        clock.advance(1)
        let undo = decide(pods, replicas: 4, now: clock.now, config: settings, retirement: waiting.retirement)
        #expect(undo.reasons == [.surgeTimedOut])
        #expect(undo.replicasSet == 3, "the ReplicaSet removes the pod that is not Ready")
        pods.removeLast()
        clock.advance(timeout / 2)
        let pause = decide(pods, replicas: 3, now: clock.now, config: settings, retirement: undo.retirement)
        #expect(pause.actions.isEmpty, "no retirement without a surge, and no surge before the retry time")
        clock.advance(timeout / 2)
        let retry = decide(pods, replicas: 3, now: clock.now, config: settings, retirement: pause.retirement)
        #expect(retry.replicasSet == 4 && retry.marks == ["old": .surging])
    }
}
