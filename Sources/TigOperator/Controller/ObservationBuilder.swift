import Foundation
import KubeClient
import Mitosis

/// Turns what the informer and the scraper saw into the policy's input.
struct ObservationBuilder {
    /// Carries counter baselines across intervals (restarts, resets).
    var ledger = WorkLedger()

    /// Pods the scraper should read: ready, not draining, with an address.
    static func scrapeTargets(_ pods: [Pod]) -> [(uid: String, ip: String)] {
        pods.compactMap { pod in
            guard pod.isReady, pod.metadata.deletionTimestamp == nil, let uid = pod.metadata.uid,
                let ip = pod.status?.podIP, !ip.isEmpty
            else { return nil }
            return (uid, ip)
        }
    }

    /// Pods without a uid or creation time are not yet real objects and are skipped.
    mutating func podStates(_ pods: [Pod], counters: [String: Double], now: Date) -> [PodState] {
        let states = pods.compactMap { pod -> PodState? in
            guard let uid = pod.metadata.uid, let name = pod.metadata.name,
                let created = pod.metadata.creationTimestamp
            else { return nil }
            let work = counters[uid].map { counter in
                ledger.record(
                    uid: uid, counter: counter,
                    counterStartedAt: (pod.runningSince ?? created).timeIntervalSince1970,
                    at: now.timeIntervalSince1970)
            }
            return PodState(
                uid: uid, name: name, createdAt: created.timeIntervalSince1970, ready: pod.isReady,
                terminating: pod.metadata.deletionTimestamp != nil, work: work,
                retirementMark: pod.metadata.annotations?[PodAnnotations.retirement].flatMap(RetirementPhase.init(rawValue:)))
        }
        ledger.keepOnly(uids: Set(states.map(\.uid)))
        return states
    }
}
