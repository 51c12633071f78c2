/// Retirement of expired pods, one at a time, make before break.
///
/// A new retirement picks the most overdue live pod (age past its jittered
/// life). Then:
/// - Under-loaded (desired < replicas · (1 − tolerance)) and above
///   minReplicas: mark it and lower replicas by one, no surge: the cluster
///   is meant to shrink.
/// - Otherwise, below maxReplicas: surge (replicas + 1) and mark it
///   `surging`; once every other live pod is Ready, mark it with the
///   deletion cost and lower replicas by one. Capacity never dips.
/// - At maxReplicas a surge would break the cap, so the pod is retired
///   without one, if the others can carry on; the next interval's divide
///   refills the slot if the load needs it. Without this, a cluster pinned
///   at its cap would never rotate. (With minReplicas == maxReplicas that
///   would drop below minReplicas, so the pod waits instead.)
///
/// A scale-in happens only when every other live pod is Ready and at least
/// replicas − 1 of them exist: the ReplicaSet removes not-ready pods before
/// looking at deletion costs, so scaling in with a pod still starting would
/// remove that pod instead of the marked one.
///
/// The deletion cost is best effort (the ReplicaSet's view of readiness can
/// lag the operator's). So after a scale-in the planner checks which pod
/// left: if the marked pod is still there once the replicas are down to the
/// scale-in's count, another pod went, and the capacity is restored (a new
/// surge) before it is retired again: make before break at every step.
///
/// A surge pod that does not become Ready within `surgeTimeout` (no room on
/// any node, an image that does not pull) does not block the rotation
/// forever: the surge is undone (the ReplicaSet removes the not-ready pod
/// first) and tried again `surgeTimeout` later.
struct RetirementPlanner {
    let observation: Observation
    /// The retirement in progress, carried over or recovered.
    let retirement: Retirement?
    let config: MitosisConfig
    let load: LoadEstimate

    private var replicas: Int { observation.replicas }
    private var live: [PodState] { observation.pods.filter { !$0.terminating } }

    func plan() -> Decision {
        if let retirement, let pod = live.first(where: { $0.uid == retirement.podUID })
        {
            return proceed(with: retirement, pod: pod)
        }
        // No retirement, or its pod has gone or is draining: that one is done.
        return startRetirement()
    }

    private func proceed(with retirement: Retirement, pod: PodState) -> Decision {
        switch retirement.phase {
        case .marked where live.count > replicas:
            return wait(retirement, "waiting for the ReplicaSet to remove \(pod.name)")
        case .marked where retirement.scaledInTo == replicas:
            return surgeOrRetire(
                pod, "the scale-in removed another pod than \(pod.name)", reason: .wrongPodRemoved, mayShrink: false)
        case .surging where retirement.retryAt.map { observation.now < $0 } ?? false:
            return wait(retirement, "a surge for \(pod.name) timed out; trying again later")
        case .surging where retirement.retryAt != nil:
            return surgeOrRetire(pod, "\(describeExpiry(pod)); trying the surge again", reason: .surge, mayShrink: false)
        case .surging where !canScaleIn(removing: pod) && timedOut(retirement):
            let message = "the surge for \(pod.name) is not Ready after \(Int(config.surgeTimeout))s; replicas \(replicas) → \(replicas - 1)"
            return Decision(
                actions: [.setReplicas(replicas - 1, reason: .surgeTimedOut, message: message)],
                retirement: Retirement(
                    podUID: pod.uid, podName: pod.name, phase: .surging, retryAt: observation.now + config.surgeTimeout),
                load: load)
        case .marked, .surging:
            // A marked pod still here with no scale-in outstanding means the
            // scale-in was absorbed (a divide raised replicas again): retire it
            // again, the same way as after a surge.
            if canScaleIn(removing: pod) {
                return retire(pod, "\(pod.name) expired and its replacement is Ready")
            }
            return wait(
                Retirement(
                    podUID: pod.uid, podName: pod.name, phase: .surging,
                    surgedAt: retirement.phase == .surging ? retirement.surgedAt ?? observation.now : observation.now),
                "waiting for the other pods to be Ready before retiring \(pod.name)")
        }
    }

    private func timedOut(_ retirement: Retirement) -> Bool {
        retirement.surgedAt.map { observation.now - $0 >= config.surgeTimeout } ?? false
    }

    private func startRetirement() -> Decision {
        guard let pod = mostOverdue() else {
            return Decision(actions: [], retirement: nil, load: load)
        }
        return surgeOrRetire(pod, describeExpiry(pod), reason: .surge)
    }

    /// Retires `pod` directly when the cluster may shrink, else surges first.
    /// Without `mayShrink` it always surges: the load estimate leaves out a
    /// retiring pod, whose replacement is missing here.
    private func surgeOrRetire(_ pod: PodState, _ expiry: String, reason: Reason, mayShrink: Bool = true) -> Decision {
        let underLoaded = mayShrink && MitosisPolicy.isBelow(load.desired, replicas: replicas, by: config.tolerance)
        if underLoaded && replicas - 1 >= config.minReplicas {
            if canScaleIn(removing: pod) {
                return retire(pod, "\(expiry); under-loaded (load needs \(load.desired) of \(replicas) pods), no surge")
            }
            return wait(nil, "\(expiry); under-loaded, waiting for the other pods to be Ready")
        }
        if replicas + 1 <= config.maxReplicas {
            let message = "\(expiry); replicas \(replicas) → \(replicas + 1) before retiring it"
            return Decision(
                actions: [
                    .setReplicas(replicas + 1, reason: reason, message: message),
                    .markPod(name: pod.name, uid: pod.uid, phase: .surging, message: message),
                ],
                retirement: Retirement(podUID: pod.uid, podName: pod.name, phase: .surging, surgedAt: observation.now),
                load: load)
        }
        if canScaleIn(removing: pod) {
            return retire(pod, "\(expiry); at maxReplicas \(config.maxReplicas), retiring without a surge")
        }
        return wait(nil, "\(expiry); at maxReplicas and the others cannot carry on without it")
    }

    /// Mark first, then scale in: the ReplicaSet must see the deletion cost
    /// when it picks the pod to remove.
    private func retire(_ pod: PodState, _ why: String) -> Decision {
        let message = "\(why); replicas \(replicas) → \(replicas - 1)"
        return Decision(
            actions: [
                .markPod(name: pod.name, uid: pod.uid, phase: .marked, message: message),
                .setReplicas(replicas - 1, reason: .retire, message: message),
            ],
            retirement: Retirement(podUID: pod.uid, podName: pod.name, phase: .marked, scaledInTo: replicas - 1),
            load: load)
    }

    private func wait(_ retirement: Retirement?, _ why: String) -> Decision {
        Decision(actions: [], retirement: retirement, load: load, waiting: why)
    }

    private func canScaleIn(removing pod: PodState) -> Bool {
        let others = live.filter { $0.uid != pod.uid }
        return replicas - 1 >= config.minReplicas
            && others.count >= replicas - 1
            && others.allSatisfy(\.ready)
    }

    /// A retirement a previous leader started, read back from the marks it
    /// left on the live pods; a `marked` pod is the furthest along.
    static func recovered(from pods: [PodState]) -> Retirement? {
        let marked = pods.filter { !$0.terminating }.compactMap { pod in
            pod.retirementMark.map { Retirement(podUID: pod.uid, podName: pod.name, phase: $0) }
        }
        return marked.min { a, b in
            (a.phase == .marked ? 0 : 1, a.podName) < (b.phase == .marked ? 0 : 1, b.podName)
        }
    }

    private func mostOverdue() -> PodState? {
        live
            .map { pod in (pod, overdue: observation.now - pod.createdAt - life(of: pod)) }
            .filter { $0.overdue >= 0 }
            .min { a, b in (-a.overdue, a.0.name) < (-b.overdue, b.0.name) }?
            .0
    }

    private func life(of pod: PodState) -> Double {
        LifetimeJitter.lifetime(ofPodWithUID: pod.uid, config: config)
    }

    private func describeExpiry(_ pod: PodState) -> String {
        let age = Int(observation.now - pod.createdAt)
        return "pod \(pod.name) expired (age \(age)s ≥ life \(Int(life(of: pod)))s)"
    }
}
