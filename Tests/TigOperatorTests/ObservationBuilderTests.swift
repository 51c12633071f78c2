import Foundation
import KubeClient
import Mitosis
import Testing

@testable import TigOperator

@Suite struct ObservationBuilderTests {
    let created = Date(timeIntervalSince1970: 1_000)

    func pod(_ uid: String?, ready: Bool = true, ip: String? = "10.0.0.1", deleting: Bool = false, mark: String? = nil) -> Pod {
        Pod(
            metadata: ObjectMeta(
                name: "pod-\(uid ?? "none")", uid: uid, creationTimestamp: created,
                deletionTimestamp: deleting ? created : nil, annotations: mark.map { [PodAnnotations.retirement: $0] }),
            status: PodStatus(podIP: ip, conditions: [PodCondition(type: "Ready", status: ready ? "True" : "False")]))
    }

    @Test func onlyReadyLivePodsWithAnAddressAreScraped() {
        let targets = ObservationBuilder.scrapeTargets([
            pod("a"), pod("b", ready: false), pod("c", ip: nil), pod("d", deleting: true), pod(nil),
        ])
        #expect(targets.map(\.uid) == ["a"])
    }

    @Test func podsBecomePolicyInput() {
        var builder = ObservationBuilder()
        let states = builder.podStates(
            [pod("a"), pod("b", deleting: true, mark: "marked"), pod("c", mark: "bogus"), pod(nil)],
            counters: ["a": 500], now: Date(timeIntervalSince1970: 1_100))
        #expect(states.map(\.uid) == ["a", "b", "c"])
        #expect(states[0].work == WorkSample(amount: 500, since: 1_000))
        #expect(states[0].createdAt == 1_000)
        #expect(states[1].terminating && states[1].retirementMark == .marked)
        #expect(states[2].work == nil && states[2].retirementMark == nil)
    }

    @Test func finishedPodsAreNoMembers() {
        var failed = pod("evicted")
        failed.status?.phase = "Failed"
        var succeeded = pod("done")
        succeeded.status?.phase = "Succeeded"
        var builder = ObservationBuilder()
        let states = builder.podStates([failed, succeeded, pod("a")], counters: ["evicted": 9, "done": 9, "a": 1], now: created)
        #expect(states.map(\.uid) == ["a"])
        #expect(ObservationBuilder.scrapeTargets([failed, succeeded, pod("a")]).map(\.uid) == ["a"])
    }

    @Test func ageAndWorkComeFromThePodStartAndTheTigContainer() {
        var sidecarRestarted = pod("a")
        sidecarRestarted.status?.startTime = Date(timeIntervalSince1970: 1_010)
        sidecarRestarted.status?.containerStatuses = [
            ContainerStatus(name: "tig", runningSince: Date(timeIntervalSince1970: 1_020)),
            ContainerStatus(name: "proxy", restartCount: 3, runningSince: Date(timeIntervalSince1970: 5_000)),
        ]
        var builder = ObservationBuilder()
        let states = builder.podStates([sidecarRestarted], counters: ["a": 700], now: Date(timeIntervalSince1970: 6_000))
        #expect(states[0].createdAt == 1_010, "the pod's start, not a container's")
        #expect(states[0].work == WorkSample(amount: 700, since: 1_020), "counted since the tig container started")
    }

    @Test func marksAreTheAnnotationsTheReplicaSetReads() {
        #expect(PodAnnotations.marking(.surging) == ["tig-operator/retirement": "surging"])
        #expect(PodAnnotations.marking(.marked) == [
            "tig-operator/retirement": "marked", "controller.kubernetes.io/pod-deletion-cost": "-1000",
        ])
    }
}
