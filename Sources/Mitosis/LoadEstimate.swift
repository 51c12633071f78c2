/// How much work the cluster does, in pods working at the normal pace.
public struct LoadEstimate: Sendable, Equatable {
    /// Load ratio of each ready pod, by UID.
    public var ratios: [String: Double]
    /// Σ r_i over ready pods.
    public var total: Double
    /// ceil(Σ r_i): the replicas that would each work at the normal pace.
    public var desired: Int
    /// Ready pods whose work could not be measured yet (counted at ratio 1).
    public var unmeasured: Int

    /// Rounding slack: a sum like 3.0000000000000004 must not ask for a 4th pod.
    static let epsilon = 1e-9

    /// For ready pod i with work W_i counted over a window of a_i seconds:
    /// f_i = a_i / L_i, w_i = W_i / (normalRate · L_i), and r_i = w_i / f_i,
    /// in which L_i cancels: r_i = W_i / (normalRate · a_i), the pod's pace
    /// relative to the normal pace.
    ///
    /// A ready pod with no metrics yet, or counted for less than
    /// `minimumWindow`, counts as r_i = 1: neither idle (which would make the
    /// cluster look under-loaded and retire without a surge) nor overworked
    /// (which would divide on a meaningless rate).
    public init(pods: [PodState], now: Double, config: MitosisConfig) {
        var ratios: [String: Double] = [:]
        var unmeasured = 0
        var total = 0.0
        for pod in pods where pod.ready && !pod.terminating {
            let ratio: Double
            if let work = pod.work, now - work.since >= config.minimumWindow, now > work.since {
                ratio = max(0, work.amount) / (config.normalRate * (now - work.since))
            } else {
                ratio = 1
                unmeasured += 1
            }
            ratios[pod.uid] = ratio
            total += ratio
        }
        self.ratios = ratios
        self.unmeasured = unmeasured
        self.total = total
        self.desired = Int((total - Self.epsilon).rounded(.up))
    }
}
