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
    /// Asked before every action: a replica that lost the Lease stops at once.
    let stillLeading: @Sendable () -> Bool

    /// How many of the actions took effect (all of them in dry run).
    func apply(_ actions: [Action]) async -> Int {
        var posted: Set<String> = []
        for (index, action) in actions.enumerated() {
            let fields: Logger.Metadata = [
                "reason": "\(action.reason.rawValue)", "step": "\(Self.step(action))", "message": "\(action.message)",
            ]
            if dryRun {
                logger.info("dry-run", metadata: fields)
                continue
            }
            guard stillLeading() else {
                logger.warning("action-skipped", metadata: fields.merging(["why": "no longer the leader"]) { $1 })
                return index
            }
            do {
                try await perform(action)
            } catch {
                logger.error("action-failed", metadata: fields.merging(["error": "\(error)"]) { $1 })
                return index
            }
            logger.notice("action", metadata: fields)
            metrics.recordAction(action.reason)
            if posted.insert(action.message).inserted {
                await events.post(reason: action.reason.rawValue, message: action.message, warning: action.reason == .refused)
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

    private func perform(_ action: Action) async throws {
        switch action {
        case .setReplicas(let replicas, _, _):
            try await client.setReplicas(namespace: namespace, deployment: deployment, replicas: replicas)
        case .markPod(let name, _, let phase, _):
            try await client.annotatePod(namespace: namespace, name: name, annotations: PodAnnotations.marking(phase))
        case .refuse:
            break
        }
    }
}
