@testable import Mitosis
import Testing

@Suite struct WorkLedgerTests {
    @Test func aNewPodCountsFromItsContainerStart() {
        var ledger = WorkLedger()
        let sample = ledger.record(uid: "a", counter: 5000, counterStartedAt: 100, at: 200)
        #expect(sample == WorkSample(amount: 5000, since: 100))
    }

    @Test func aCounterThatGoesBackwardsStartsANewBaselineNow() {
        var ledger = WorkLedger()
        _ = ledger.record(uid: "a", counter: 5000, counterStartedAt: 100, at: 200)
        let reset = ledger.record(uid: "a", counter: 30, counterStartedAt: 100, at: 215)
        #expect(reset == WorkSample(amount: 0, since: 215))
        let later = ledger.record(uid: "a", counter: 330, counterStartedAt: 100, at: 230)
        #expect(later == WorkSample(amount: 300, since: 215))
    }

    @Test func aReportedRestartCountsFromTheNewStart() {
        var ledger = WorkLedger()
        _ = ledger.record(uid: "a", counter: 5000, counterStartedAt: 100, at: 200)
        // The reset was first seen without the new start time, then the kubelet reported it.
        _ = ledger.record(uid: "a", counter: 40, counterStartedAt: 100, at: 215)
        let restarted = ledger.record(uid: "a", counter: 90, counterStartedAt: 210, at: 230)
        #expect(restarted == WorkSample(amount: 90, since: 210))
    }

    @Test func aCounterThatStaysPutIsNotAReset() {
        var ledger = WorkLedger()
        _ = ledger.record(uid: "a", counter: 70, counterStartedAt: 100, at: 200)
        #expect(ledger.record(uid: "a", counter: 70, counterStartedAt: 100, at: 215) == WorkSample(amount: 70, since: 100))
    }

    @Test func forgottenPodsStartAgainFromTheirContainerStart() {
        var ledger = WorkLedger()
        _ = ledger.record(uid: "a", counter: 500, counterStartedAt: 100, at: 200)
        _ = ledger.record(uid: "a", counter: 10, counterStartedAt: 100, at: 215)
        ledger.keepOnly(uids: ["b"])
        #expect(ledger.record(uid: "a", counter: 20, counterStartedAt: 100, at: 230) == WorkSample(amount: 20, since: 100))
    }
}
