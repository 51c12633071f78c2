import Testing
import TigAddress
@testable import TigStore

@Suite struct RetentionPolicyTests {
    let start: WallTime = 1_000 * 1_000_000_000
    var policy: RetentionPolicy { RetentionPolicy(retention: .seconds(10), startTime: start) }

    @Test func blockExpiresOneRetentionAfterItsLastUse() {
        let lastUse = start + 5_000_000_000
        #expect(policy.expiry(lastUse: lastUse) == lastUse + 10_000_000_000)
        #expect(!policy.isExpired(lastUse: lastUse, now: lastUse + 9_999_999_999))
        #expect(policy.isExpired(lastUse: lastUse, now: lastUse + 10_000_000_000))
    }

    @Test func blocksOlderThanTheStartGetAFullPeriodFromTheStart() {
        let ancient = start - 3_600_000_000_000
        #expect(policy.expiry(lastUse: ancient) == start + 10_000_000_000)
        #expect(!policy.isExpired(lastUse: ancient, now: start + 9_000_000_000))
    }

    @Test func readsResetTheTimerOnlyOnceItAged() {
        // A tenth of 10 s is 1 s.
        #expect(policy.touchGranularity == 1_000_000_000)
        #expect(!policy.needsTouch(lastUse: start, now: start + 999_999_999))
        #expect(policy.needsTouch(lastUse: start, now: start + 1_000_000_000))
        let short = RetentionPolicy(retention: .seconds(2), startTime: start)
        #expect(short.touchGranularity == 200_000_000)
        let long = RetentionPolicy(retention: .seconds(3600), startTime: start)
        #expect(long.touchGranularity == 1_000_000_000)
    }

    @Test func sweepStepIsAFractionOfThePeriodButAtLeastTenMilliseconds() {
        #expect(policy.sweepStep == 10_000_000_000 / 64)
        #expect(RetentionPolicy(retention: .milliseconds(100), startTime: start).sweepStep == 10_000_000)
    }
}

@Suite struct RetentionScheduleTests {
    let step: Int64 = 100
    let a = BlockAddress(words: (1, 0, 0, 0))
    let b = BlockAddress(words: (2, 0, 0, 0))

    @Test func entriesComeDueOnlyAfterTheirExpiry() {
        var schedule = RetentionSchedule(step: step, now: 1_000)
        schedule.schedule(a, expiry: 1_250)
        #expect(schedule.takeDue(now: 1_249).isEmpty)
        #expect(schedule.takeDue(now: 1_299).isEmpty, "the step holding 1250 ends at 1300")
        #expect(schedule.takeDue(now: 1_300) == [a])
        #expect(schedule.count == 0)
    }

    @Test func anAddressIsFiledOnceAtItsEarliestExpiry() {
        var schedule = RetentionSchedule(step: step, now: 0)
        schedule.schedule(a, expiry: 500)
        schedule.schedule(a, expiry: 900)
        #expect(schedule.count == 1)
        #expect(schedule.takeDue(now: 500) == [a])
        #expect(schedule.takeDue(now: 10_000).isEmpty)
    }

    @Test func pastExpiriesComeDueAtTheNextStep() {
        var schedule = RetentionSchedule(step: step, now: 1_000)
        _ = schedule.takeDue(now: 1_000)
        schedule.schedule(b, expiry: 10)
        #expect(schedule.takeDue(now: 1_100) == [b])
    }

    @Test func stepsAreHandedOutInOrderAndOnce() {
        var schedule = RetentionSchedule(step: step, now: 0)
        schedule.schedule(b, expiry: 300)
        schedule.schedule(a, expiry: 200)
        #expect(schedule.takeDue(now: 1_000) == [a, b])
        #expect(schedule.takeDue(now: 2_000).isEmpty)
        #expect(schedule.nextStepEnd == 2_100)
    }
}
