import Foundation
import KubeClient
import Logging
import Mitosis

/// The reconcile loop: every interval, while leading, observe (pods from the
/// informer, the Deployment's scale, competing autoscalers, each ready pod's
/// work), ask the Mitosis policy, and act on its answer.
final class Controller {
    struct Dependencies {
        let config: OperatorConfig
        let client: KubernetesClient
        let informer: PodInformer
        let scraper: PodScraper
        let applier: ActionApplier
        let metrics: OperatorMetrics
        let logger: Logger
        /// The leader's term, nil while not leading. Always 0 without leader election.
        let term: @Sendable () -> Int?
        /// When the leadership lapses unless renewed; nil without leader election.
        let deadline: @Sendable () -> ContinuousClock.Instant?
    }

    private let deps: Dependencies
    private var observations = ObservationBuilder()
    /// The retirement in progress, as far as this term knows.
    private var retirement: Retirement?
    private var term: Int?
    /// The last refusal posted, so a lasting refusal is one Event, not one per interval.
    private var refusal: String?

    init(_ deps: Dependencies) {
        self.deps = deps
    }

    /// Runs until the task is cancelled.
    func run() async {
        let clock = ContinuousClock()
        var next = clock.now
        while !Task.isCancelled {
            do {
                try await reconcile()
            } catch {
                // Shutting down aborts requests in flight: not a failure.
                if Task.isCancelled { return }
                deps.metrics.reconcileErrors.increment()
                deps.logger.error("reconcile-failed", metadata: ["error": "\(error)"])
            }
            next = max(next + deps.config.interval, clock.now)
            try? await clock.sleep(until: next)
        }
    }

    func reconcile() async throws {
        let currentTerm = deps.term()
        deps.metrics.leader.set(to: currentTerm == nil ? 0 : 1)
        if currentTerm != term {
            // A new term starts from what the cluster says (the pods'
            // retirement marks), not from what an earlier term remembered.
            term = currentTerm
            retirement = nil
            refusal = nil
        }
        guard currentTerm != nil else { return }
        guard let pods = deps.informer.pods else {
            deps.logger.info("waiting-for-pods", metadata: ["why": "the first pod list has not arrived"])
            return
        }

        let config = deps.config
        // Everything this interval asks or changes ends with the leadership.
        let deadline = deps.deadline()
        let client = deps.client.bounded(by: deadline)
        let autoscaler = try await client.listHorizontalPodAutoscalers(namespace: config.namespace)
            .first { $0.targets(deployment: config.deployment) }
        let scale = try await client.getScale(namespace: config.namespace, deployment: config.deployment)
        let targets = ObservationBuilder.scrapeTargets(pods)
        let counters = await deps.scraper.scrape(targets)
        if counters.count < targets.count {
            deps.metrics.scrapeFailures.increment(by: Int64(targets.count - counters.count))
        }
        let now = Date()
        let states = observations.podStates(pods, counters: counters, now: now)

        let decision = MitosisPolicy.decide(
            Observation(
                now: now.timeIntervalSince1970, replicas: scale.replicas, pods: states,
                competingAutoscaler: autoscaler?.metadata.name, retirement: retirement),
            config: config.mitosis)
        deps.metrics.record(decision, replicas: scale.replicas, readyPods: states.filter { $0.ready && !$0.terminating }.count)
        log(decision, replicas: scale.replicas)

        let term = deps.term
        let grounds = ActionApplier.Grounds(
            replicas: scale.replicas, deploymentUID: scale.metadata.uid, deadline: deadline, stillLeading: { term() == currentTerm })
        if case .refuse(let message)? = decision.actions.first {
            if refusal != message { _ = await deps.applier.apply(decision.actions, on: grounds) }
            refusal = message
            return
        }
        refusal = nil
        let applied = await deps.applier.apply(decision.actions, on: grounds)
        // The new retirement state holds only if its replica change went
        // through: a surge that failed must be tried again, and a pod marked
        // but not scaled in is still waiting for its scale-in. A dry run
        // changes nothing, so each interval starts from the cluster as it is.
        let replicaChangeFailed = decision.actions.dropFirst(applied).contains { $0.replicas != nil }
        if !config.dryRun && !replicaChangeFailed {
            retirement = decision.retirement
        }
    }

    private func log(_ decision: Decision, replicas: Int) {
        var fields: Logger.Metadata = [
            "replicas": "\(replicas)", "desired": "\(decision.load.desired)",
            "load": "\((decision.load.total * 100).rounded() / 100)", "unmeasured": "\(decision.load.unmeasured)",
        ]
        if let retirement = decision.retirement {
            fields["retiring"] = "\(retirement.podName)"
            fields["phase"] = "\(retirement.phase.rawValue)"
        }
        if let waiting = decision.waiting {
            fields["waiting"] = "\(waiting)"
        }
        deps.logger.info("interval", metadata: fields)
    }
}
