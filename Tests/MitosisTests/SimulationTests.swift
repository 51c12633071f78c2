@testable import Mitosis
import Testing

/// Runs the policy against a toy Deployment for hours of fake time and checks
/// the invariants the spec promises, whatever the load does.
@Suite struct SimulationTests {
    /// A ReplicaSet and kubelet in miniature: new pods are Ready one interval
    /// after creation; a scale-in removes not-ready pods first, then the lowest
    /// deletion cost, then the newest; removed pods drain for one interval.
    struct ToyCluster {
        struct Pod {
            var state: PodState
            var counter: Double = 0
            var marked = false
            var drainingSince: Double?
        }
        var pods: [Pod] = []
        var replicas: Int
        var nextID = 0

        mutating func reconcile(now: Double) {
            pods.removeAll { $0.drainingSince.map { now - $0 >= 15 } ?? false }
            for i in pods.indices where !pods[i].state.ready && now - pods[i].state.createdAt >= 15 {
                pods[i].state.ready = true
            }
            var live = pods.indices.filter { pods[$0].drainingSince == nil }
            while live.count < replicas {
                nextID += 1
                pods.append(Pod(state: PodState(uid: "uid-\(nextID)", name: "pod-\(nextID)", createdAt: now, ready: false)))
                live.append(pods.count - 1)
            }
            while live.count > replicas, let victim = live.min(by: { a, b in
                let pa = pods[a], pb = pods[b]
                return (pa.state.ready ? 1 : 0, pa.marked ? 0 : 1, -pa.state.createdAt)
                    < (pb.state.ready ? 1 : 0, pb.marked ? 0 : 1, -pb.state.createdAt)
            }) {
                pods[victim].drainingSince = now
                pods[victim].state.terminating = true
                live.removeAll { $0 == victim }
            }
        }

        /// Spreads `demand` (in pods at the normal pace) over the Ready pods for `seconds`.
        mutating func serve(demand: Double, seconds: Double, normalRate: Double) {
            let serving = pods.indices.filter { pods[$0].state.ready && !pods[$0].state.terminating }
            guard !serving.isEmpty else { return }
            for i in serving { pods[i].counter += demand * normalRate * seconds / Double(serving.count) }
        }

        mutating func apply(_ actions: [Action]) {
            for action in actions {
                switch action {
                case .setReplicas(let n, _, _): replicas = n
                case .markPod(_, let uid, let phase, _):
                    if let i = pods.firstIndex(where: { $0.state.uid == uid }) {
                        pods[i].state.retirementMark = phase
                        pods[i].marked = phase == .marked
                    }
                case .refuse: break
                }
            }
        }
    }

    func run(demand: (Double) -> Double, hours: Double, config c: MitosisConfig, check: (Double, ToyCluster, Decision) -> Void) {
        var cluster = ToyCluster(replicas: c.minReplicas)
        var clock = FakeClock()
        let start = clock.now
        var retirement: Retirement?
        while clock.now - start < hours * 3600 {
            cluster.reconcile(now: clock.now)
            for i in cluster.pods.indices {
                let p = cluster.pods[i]
                cluster.pods[i].state.work = p.state.ready ? WorkSample(amount: p.counter, since: p.state.createdAt) : nil
            }
            let decision = MitosisPolicy.decide(
                Observation(now: clock.now, replicas: cluster.replicas, pods: cluster.pods.map(\.state), retirement: retirement),
                config: c)
            cluster.apply(decision.actions)
            retirement = decision.retirement
            check(clock.now - start, cluster, decision)
            cluster.serve(demand: demand(clock.now - start), seconds: 15, normalRate: c.normalRate)
            clock.advance(15)
        }
    }

    let c = config(lifetime: 1800, jitter: 0.2, min: 2, max: 8, window: 15)

    @Test func invariantsHoldThroughLoadAndRotation() {
        var sawDivide = false, sawRetire = false, maxAge = 0.0
        // Quiet, then 5 pods' worth of load for an hour, then quiet again.
        run(demand: { t in (3600..<7200).contains(t) ? 5 : 0.5 }, hours: 5, config: c) { t, cluster, decision in
            #expect(cluster.replicas <= c.maxReplicas)
            #expect(cluster.replicas >= c.minReplicas)
            let marks = cluster.pods.filter { !$0.state.terminating && $0.state.retirementMark != nil }
            #expect(marks.count <= 1, "one retirement at a time")
            if t > 60 {
                let ready = cluster.pods.filter { $0.state.ready && !$0.state.terminating }.count
                #expect(ready >= c.minReplicas, "ready pods never below minReplicas (t=\(t))")
            }
            sawDivide = sawDivide || decision.reasons.contains(.divide)
            sawRetire = sawRetire || decision.reasons.contains(.retire)
            for pod in cluster.pods where !pod.state.terminating {
                maxAge = max(maxAge, t + FakeClock().now - pod.state.createdAt)
            }
        }
        #expect(sawDivide)
        #expect(sawRetire)
        // No pod outlives its jittered life by more than a few intervals of surge and drain.
        #expect(maxAge < 1800 * 1.2 + 5 * 15)
    }

    @Test func loadThatStopsShrinksTheClusterBackToMinReplicas() {
        var last = 0
        run(demand: { t in t < 1800 ? 6 : 0 }, hours: 6, config: c) { _, cluster, _ in last = cluster.replicas }
        #expect(last == c.minReplicas)
    }

    @Test func steadyNormalLoadRotatesWithoutEverDippingBelowItsSize() {
        // 4 pods' worth of load on a cluster that starts at 4: every retirement is a rotation.
        let fixed = config(lifetime: 1800, jitter: 0.2, min: 4, max: 8, window: 15)
        var minReady = Int.max
        run(demand: { _ in 4 }, hours: 3, config: fixed) { t, cluster, _ in
            if t > 60 {
                minReady = min(minReady, cluster.pods.filter { $0.state.ready && !$0.state.terminating }.count)
            }
        }
        #expect(minReady >= 4)
    }
}
