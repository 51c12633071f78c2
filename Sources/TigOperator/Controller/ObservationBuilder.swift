import Foundation
import KubeClient
import Mitosis

/// Turns what the informer and the scraper saw into the policy's input.
struct ObservationBuilder {
    /// Carries counter baselines across intervals (restarts, resets).
    var ledger = WorkLedger()

    /// The container whose age and counters count: tig's, not a sidecar's.
    static let container = "tig"

    /// Pods the scraper should read: ready, not draining, with an address.
    static func scrapeTargets(_ pods: [Pod]) -> [(uid: String, ip: String)] {
        pods.compactMap { pod in
            guard pod.isReady, !pod.hasFinished, pod.metadata.deletionTimestamp == nil, let uid = pod.metadata.uid,
                let ip = pod.status?.podIP, !ip.isEmpty
            else { return nil }
            return (uid, ip)
        }
    }

    /// Pods without a uid or creation time are not yet real objects and are
    /// skipped; so are pods that finished (Failed, Succeeded): they are no
    /// members, and the ReplicaSet does not count them either, so marking
    /// one for retirement would make it remove a live pod.
    mutating func podStates(_ pods: [Pod], counters: [String: Double], now: Date) -> [PodState] {
        let states = pods.compactMap { pod -> PodState? in
            guard !pod.hasFinished, let uid = pod.metadata.uid, let name = pod.metadata.name,
                let started = pod.startedAt
            else { return nil }
            let work = counters[uid].map { counter in
                ledger.record(
                    uid: uid, counter: counter,
                    counterStartedAt: (pod.runningSince(container: Self.container) ?? started).timeIntervalSince1970,
                    at: now.timeIntervalSince1970)
            }
            return PodState(
                uid: uid, name: name, createdAt: started.timeIntervalSince1970, ready: pod.isReady,
                terminating: pod.metadata.deletionTimestamp != nil, work: work,
                retirementMark: pod.metadata.annotations?[PodAnnotations.retirement].flatMap(RetirementPhase.init(rawValue:)))
        }
        ledger.keepOnly(uids: Set(states.map(\.uid)))
        return states
    }
}
