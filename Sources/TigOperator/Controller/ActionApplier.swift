import KubeClient
import Logging
import Mitosis

/// Carries out the policy's actions against the API, in order, stopping at
/// the first failure (the order is what makes a retirement safe: mark, then
/// scale in). Each applied action is logged and posted as an Event (once per
/// message: a surge's two steps share one); in dry run, actions are only logged.
struct ActionApplier {
    let client: KubernetesClient
    let namespace: String
    let deployment: String
    let dryRun: Bool
    let events: EventRecorder
    let metrics: OperatorMetrics
    let logger: Logger

    /// What the actions are decided on, and how long they may take.
    struct Grounds {
        /// The replicas the decision saw: a replica change applies only if
        /// nobody changed them since (see `setReplicas`).
        let replicas: Int
        /// The uid of the Deployment the decision saw, for the Events.
        let deploymentUID: String?
        /// Every call ends by then (the leader's renew deadline).
        let deadline: ContinuousClock.Instant?
        /// Asked before every action: a replica that lost the Lease stops at once.
        let stillLeading: @Sendable () -> Bool
    }

    /// How many of the actions took effect (all of them in dry run).
    func apply(_ actions: [Action], on grounds: Grounds) async -> Int {
        let client = client.bounded(by: grounds.deadline)
        var posted: Set<String> = []
        for (index, action) in actions.enumerated() {
            let fields: Logger.Metadata = [
                "reason": "\(action.reason.rawValue)", "step": "\(Self.step(action))", "message": "\(action.message)",
            ]
            if dryRun {
                logger.info("dry-run", metadata: fields)
                continue
            }
            guard grounds.stillLeading() else {
                logger.warning("action-skipped", metadata: fields.merging(["why": "no longer the leader"]) { $1 })
                return index
            }
            do {
                try await perform(action, with: client, decidedOn: grounds.replicas)
            } catch {
                logger.error("action-failed", metadata: fields.merging(["error": "\(error)"]) { $1 })
                return index
            }
            logger.notice("action", metadata: fields)
            metrics.recordAction(action.reason)
            if posted.insert(action.message).inserted {
                await events.post(
                    reason: action.reason.rawValue, message: action.message, warning: action.reason == .refused,
                    deploymentUID: grounds.deploymentUID)
            }
        }
        return actions.count
    }

    /// What the action changes, for the log line.
    private static func step(_ action: Action) -> String {
        switch action {
        case .setReplicas(let replicas, _, _): "replicas=\(replicas)"
        case .markPod(let name, _, let phase, _): "mark pod=\(name) as=\(phase.rawValue)"
        case .refuse: "none"
        }
    }

    private func perform(_ action: Action, with client: KubernetesClient, decidedOn seen: Int) async throws {
        switch action {
        case .setReplicas(let replicas, _, _):
            try await setReplicas(replicas, decidedOn: seen, with: client)
        case .markPod(let name, _, let phase, _):
            try await client.annotatePod(namespace: namespace, name: name, annotations: PodAnnotations.marking(phase))
        case .refuse:
            break
        }
    }

    /// Reads the scale again and writes the new replicas with that read's
    /// resourceVersion as a precondition: if the replicas are no longer the
    /// ones the decision was made on (another leader, a person), or change
    /// between the read and the write (409), nothing is written. The read
    /// comes just before the write, so the Deployment's own status updates
    /// rarely conflict.
    private func setReplicas(_ replicas: Int, decidedOn seen: Int, with client: KubernetesClient) async throws {
        let scale = try await client.getScale(namespace: namespace, deployment: deployment)
        guard scale.replicas == seen else { throw StaleDecision(seen: seen, now: scale.replicas) }
        try await client.setReplicas(
            namespace: namespace, deployment: deployment, replicas: replicas, resourceVersion: scale.metadata.resourceVersion)
    }

    struct StaleDecision: Error, CustomStringConvertible {
        let seen: Int
        let now: Int
        var description: String { "decided on \(seen) replicas, the scale now says \(now)" }
    }
}
