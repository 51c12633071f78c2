@testable import Mitosis
import Testing

@Suite struct LifetimeJitterTests {
    let uids = (0..<2000).map { "5f3c2a1e-\($0)-4b6d-9e0f-\($0 * 7919)" }

    @Test func theSameUIDAlwaysGetsTheSameLife() {
        let c = config(jitter: 0.2)
        for uid in uids.prefix(50) {
            #expect(LifetimeJitter.lifetime(ofPodWithUID: uid, config: c) == LifetimeJitter.lifetime(ofPodWithUID: uid, config: c))
        }
        // Pinned: the hash must not change between builds, or every pod's expiry moves on upgrade.
        #expect(LifetimeJitter.unitInterval("") == LifetimeJitter.unitInterval(""))
        #expect(abs(LifetimeJitter.unitInterval("0b2c3d4e-aaaa-bbbb-cccc-000000000001") - pinnedUnit) < 1e-15)
    }

    @Test func livesStayWithinTheJitterAndSpreadAcrossIt() {
        let c = config(lifetime: 3600, jitter: 0.2)
        let lives = uids.map { LifetimeJitter.lifetime(ofPodWithUID: $0, config: c) }
        #expect(lives.allSatisfy { $0 >= 3600 * 0.8 && $0 < 3600 * 1.2 })
        // Uniform: the extremes are near both ends, and about half are below the nominal life.
        #expect((lives.min() ?? 0) < 3600 * 0.81)
        #expect((lives.max() ?? 0) > 3600 * 1.19)
        let below = lives.filter { $0 < 3600 }.count
        #expect((900...1100).contains(below))
    }

    @Test func similarUIDsGetDifferentLives() {
        let c = config(jitter: 0.2)
        let a = LifetimeJitter.lifetime(ofPodWithUID: "pod-uid-1", config: c)
        let b = LifetimeJitter.lifetime(ofPodWithUID: "pod-uid-2", config: c)
        #expect(abs(a - b) > 1)
    }

    @Test func noJitterMeansExactlyTheLifetime() {
        #expect(uids.prefix(20).allSatisfy { LifetimeJitter.lifetime(ofPodWithUID: $0, config: config(jitter: 0)) == 3600 })
    }

    @Test func thePolicyUsesTheJitteredLife() {
        let c = config(jitter: 0.2)
        let now = FakeClock().now
        let life = LifetimeJitter.lifetime(ofPodWithUID: "uid-a", config: c)
        let young = pod("a", age: life - 0.01, now: now)
        let old = pod("a", age: life + 0.01, now: now)
        let other = pod("b", age: 60, now: now)
        #expect(decide([young, other], replicas: 2, now: now, config: c).actions.isEmpty)
        #expect(decide([old, other], replicas: 2, now: now, config: c).marks == ["a": .surging])
    }
}

/// Value of the hash for one UID, computed once; a changed hash fails the test.
private let pinnedUnit = 0.16048503233161826
