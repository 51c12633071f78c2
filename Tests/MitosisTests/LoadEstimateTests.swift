@testable import Mitosis
import Testing

@Suite struct LoadEstimateTests {
    let now = FakeClock().now

    @Test func loadRatioIsWorkFractionOverLifetimeFraction() {
        // Half an hour old, 200 × 1800 × 1.5 requests: 1.5 times the normal pace.
        let load = LoadEstimate(pods: [pod("a", age: 1800, ratio: 1.5, now: now)], now: now, config: config())
        #expect(load.ratios["uid-a"] == 1.5)
        // The spec's form, w/f with the pod's own life L: the same number.
        let life = 3600.0, work = 200.0 * 1800 * 1.5
        #expect(abs((work / (200 * life)) / (1800 / life) - 1.5) < 1e-12)
    }

    @Test func desiredIsTheCeilingOfTheSum() {
        let pods = [pod("a", age: 600, ratio: 1.2, now: now), pod("b", age: 600, ratio: 1.3, now: now)]
        let load = LoadEstimate(pods: pods, now: now, config: config())
        #expect(abs(load.total - 2.5) < 1e-9)
        #expect(load.desired == 3)
    }

    @Test func roundingNoiseDoesNotAskForAnotherPod() {
        // 1.1 + 1.1 + 0.8 in binary floating point is 3.000000000000001.
        let ratios = [1.1, 1.1, 0.8]
        let pods = ratios.enumerated().map { pod("p\($0.offset)", age: 600, ratio: $0.element, now: now) }
        let load = LoadEstimate(pods: pods, now: now, config: config())
        #expect(load.total != 3)
        #expect(load.desired == 3)
    }

    @Test func podWithoutMetricsCountsAtTheNormalPaceNotAsIdle() {
        let load = LoadEstimate(pods: [pod("a", age: 600, ratio: nil, now: now)], now: now, config: config())
        #expect(load.ratios["uid-a"] == 1)
        #expect(load.unmeasured == 1)
    }

    @Test func windowShorterThanTheMinimumCountsAsUnmeasured() {
        // Age 0: the division would be by zero; age 14 s < 15 s window: too short to mean anything.
        for age in [0.0, 14.999] {
            let load = LoadEstimate(pods: [pod("a", age: age, ratio: 50, now: now)], now: now, config: config())
            #expect(load.ratios["uid-a"] == 1)
            #expect(load.unmeasured == 1)
        }
        let load = LoadEstimate(pods: [pod("a", age: 15, ratio: 50, now: now)], now: now, config: config())
        #expect(load.ratios["uid-a"] == 50)
    }

    @Test func zeroWindowIsUnmeasuredEvenWithoutAMinimum() {
        let load = LoadEstimate(pods: [pod("a", age: 0, ratio: 3, now: now)], now: now, config: config(window: 0))
        #expect(load.ratios["uid-a"] == 1)
    }

    @Test func idlePodCountsZero() {
        let load = LoadEstimate(pods: [pod("a", age: 600, ratio: 0, now: now)], now: now, config: config())
        #expect(load.ratios["uid-a"] == 0)
        #expect(load.desired == 0)
    }

    @Test func notReadyAndTerminatingPodsAreLeftOut() {
        let pods = [
            pod("a", age: 600, ratio: 2, now: now),
            pod("b", age: 600, ratio: 5, ready: false, now: now),
            pod("c", age: 600, ratio: 5, terminating: true, now: now),
        ]
        let load = LoadEstimate(pods: pods, now: now, config: config())
        #expect(load.ratios.keys.sorted() == ["uid-a"])
        #expect(load.total == 2)
    }

    @Test func negativeWorkCountsAsIdle() {
        let p = PodState(
            uid: "u", name: "a", createdAt: now - 600, ready: true, work: WorkSample(amount: -5, since: now - 600))
        #expect(LoadEstimate(pods: [p], now: now, config: config()).total == 0)
    }
}
