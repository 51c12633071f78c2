import Mitosis
import Prometheus

/// What the operator exposes on its own `/metrics`, all named `tig_operator_…`.
final class OperatorMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    let leader: Gauge
    let replicas: Gauge
    let desiredReplicas: Gauge
    let load: Gauge
    let readyPods: Gauge
    let unmeasuredPods: Gauge
    let retiring: Gauge
    let reconcileErrors: Counter
    let scrapeFailures: Counter
    private let actions: [Reason: Counter]

    init() {
        func name(_ metric: String, unit: String = "", _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "tig_operator", metricName: metric, unitName: unit, helpText: help)
        }
        leader = registry.makeGauge(descriptor: name("leader", "1 while this replica holds the Lease and acts"))
        replicas = registry.makeGauge(descriptor: name("replicas", "The Deployment's replicas, as last read"))
        desiredReplicas = registry.makeGauge(
            descriptor: name("desired_replicas", "Ceiling of the summed load ratios of the ready pods"))
        load = registry.makeGauge(descriptor: name("load", "Sum of the ready pods' load ratios"))
        readyPods = registry.makeGauge(descriptor: name("ready_pods", "Ready pods of the Deployment"))
        unmeasuredPods = registry.makeGauge(
            descriptor: name("unmeasured_pods", "Ready pods without a work measurement yet (counted at ratio 1)"))
        retiring = registry.makeGauge(descriptor: name("retiring", "1 while a pod is being retired"))
        reconcileErrors = registry.makeCounter(
            descriptor: name("reconcile_errors", unit: "total", "Intervals that failed to observe or act"))
        scrapeFailures = registry.makeCounter(
            descriptor: name("scrape_failures", unit: "total", "Pod /metrics scrapes that failed"))
        var actions: [Reason: Counter] = [:]
        for reason in Reason.allCases {
            actions[reason] = registry.makeCounter(
                descriptor: name("actions", unit: "total", "Actions taken, by Event reason"),
                labels: [("reason", reason.rawValue)])
        }
        self.actions = actions
    }

    func recordAction(_ reason: Reason) {
        actions[reason]?.increment()
    }

    func record(_ decision: Decision, replicas: Int, readyPods: Int) {
        self.replicas.set(to: Double(replicas))
        desiredReplicas.set(to: Double(decision.load.desired))
        load.set(to: decision.load.total)
        self.readyPods.set(to: Double(readyPods))
        unmeasuredPods.set(to: Double(decision.load.unmeasured))
        retiring.set(to: decision.retirement == nil ? 0 : 1)
    }
}
