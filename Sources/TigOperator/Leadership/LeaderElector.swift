import Foundation
import KubeClient
import Logging
import Synchronization

/// Leader election over a `coordination.k8s.io/v1` Lease, in the manner of
/// client-go: only the holder acts, so two operator replicas never scale the
/// same Deployment at once.
///
/// - Acquire: create the Lease, or take it over once its holder has not
///   renewed it for its `leaseDurationSeconds`. Expiry is judged by this
///   process's own monotonic clock from when it last saw the record change,
///   never by comparing the holder's timestamps to our wall clock (skew).
/// - Renew every `retryPeriod`. Leadership is lost at once on 409 Conflict
///   (someone else wrote the Lease) or when another holder appears, and when
///   renewals keep failing for `renewDeadline`, which is shorter than the
///   lease duration, so we stop acting before anyone else may start.
/// - On shutdown the Lease is released so a successor need not wait.
public final class LeaderElector: Sendable {
    public struct Timing: Sendable, Equatable {
        public var leaseDuration: Duration
        public var renewDeadline: Duration
        public var retryPeriod: Duration

        /// client-go's defaults.
        public init(leaseDuration: Duration = .seconds(15), renewDeadline: Duration = .seconds(10), retryPeriod: Duration = .seconds(2)) {
            self.leaseDuration = leaseDuration
            self.renewDeadline = renewDeadline
            self.retryPeriod = retryPeriod
        }
    }

    private struct State: Sendable {
        var leading = false
        /// Leadership lapses at this instant unless a renewal extends it:
        /// the start of the last successful renewal plus the renew deadline.
        var until = ContinuousClock.now
        /// Incremented on every acquisition, so the controller can tell a
        /// new term from a continuing one and drop state from an old one.
        var term = 0
    }

    private let client: KubernetesClient
    private let namespace: String
    private let name: String
    private let identity: String
    private let timing: Timing
    private let logger: Logger
    private let state = Mutex(State())

    public init(client: KubernetesClient, namespace: String, name: String, identity: String, timing: Timing, logger: Logger) {
        self.client = client
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.timing = timing
        self.logger = logger
    }

    /// The current term while leading, nil otherwise: also the moment the
    /// renew deadline passes without a renewal, even while a renewal is
    /// still under way.
    public var term: Int? {
        state.withLock { $0.leading && ContinuousClock.now < $0.until ? $0.term : nil }
    }

    /// When leadership lapses unless renewed; nil while not leading. Every
    /// call made as leader is bounded by it.
    public var deadline: ContinuousClock.Instant? {
        state.withLock { $0.leading ? $0.until : nil }
    }

    /// Campaigns and renews until the task is cancelled, then releases the Lease if held.
    public func run() async {
        var session = Session(elector: self)
        while !Task.isCancelled {
            await session.step()
            try? await Task.sleep(for: timing.retryPeriod)
        }
        if term != nil {
            // The release must not be cancelled along with this task.
            await Task { await session.release() }.value
        }
    }

    fileprivate func setLeading(_ leading: Bool, until: ContinuousClock.Instant = .now, reason: String) {
        let changed = state.withLock { state in
            let lapsed = state.leading && ContinuousClock.now >= state.until
            state.until = until
            guard state.leading != leading || (leading && lapsed) else { return false }
            // A term that lapsed is over, even if the next renewal succeeds:
            // the controller must start the next one from the cluster again.
            if leading { state.term += 1 }
            state.leading = leading
            return true
        }
        guard changed else { return }
        if leading {
            logger.notice("leader-acquired", metadata: ["lease": "\(namespace)/\(name)", "identity": "\(identity)"])
        } else {
            logger.warning("leader-lost", metadata: ["lease": "\(namespace)/\(name)", "reason": "\(reason)"])
        }
    }

    /// The election's memory between steps; used by `run`'s task only.
    private struct Session {
        let elector: LeaderElector
        var observed: Lease.Spec?
        var observedAt = ContinuousClock.now
        var lastRenewal = ContinuousClock.now

        init(elector: LeaderElector) {
            self.elector = elector
        }

        mutating func step() async {
            let leading = elector.term != nil
            let started = ContinuousClock.now
            do {
                if try await acquireOrRenew() {
                    lastRenewal = started
                    elector.setLeading(true, until: started + elector.timing.renewDeadline, reason: "")
                } else if leading {
                    elector.setLeading(false, reason: "another holder took the Lease")
                }
            } catch let error as KubeAPIError where error.isConflict {
                if leading { elector.setLeading(false, reason: "409 Conflict on the Lease") }
            } catch {
                elector.logger.warning("lease-renew-failed", metadata: ["error": "\(error)"])
                if leading && ContinuousClock.now - lastRenewal >= elector.timing.renewDeadline {
                    elector.setLeading(false, reason: "could not renew within the renew deadline")
                }
            }
        }

        /// True when we hold the Lease after this step.
        private mutating func acquireOrRenew() async throws -> Bool {
            let now = Date()
            // No renewal outlives the renew deadline (retries included): a
            // late success would extend a leadership already given up.
            let client = elector.client.bounded(by: ContinuousClock.now + elector.timing.renewDeadline)
            guard var lease = try await client.getLease(namespace: elector.namespace, name: elector.name) else {
                let spec = Lease.Spec(
                    holderIdentity: elector.identity, leaseDurationSeconds: leaseSeconds, acquireTime: now, renewTime: now,
                    leaseTransitions: 0)
                let created = try await client.createLease(
                    Lease(metadata: ObjectMeta(name: elector.name, namespace: elector.namespace), spec: spec))
                observe(created.spec)
                return true
            }
            observe(lease.spec)
            let holder = lease.spec.holderIdentity ?? ""
            if !holder.isEmpty && holder != elector.identity {
                let duration = Duration.seconds(lease.spec.leaseDurationSeconds ?? leaseSeconds)
                if ContinuousClock.now - observedAt < duration { return false }
                elector.logger.info("lease-expired", metadata: ["holder": "\(holder)"])
            }
            if holder != elector.identity {
                lease.spec.acquireTime = now
                lease.spec.leaseTransitions = (lease.spec.leaseTransitions ?? 0) + 1
            }
            lease.spec.holderIdentity = elector.identity
            lease.spec.leaseDurationSeconds = leaseSeconds
            lease.spec.renewTime = now
            observe(try await client.updateLease(lease).spec)
            return true
        }

        /// Hands the Lease back: no holder, and a one-second duration so any
        /// waiting candidate takes it on its next try.
        func release() async {
            do {
                guard var lease = try await elector.client.getLease(namespace: elector.namespace, name: elector.name),
                    lease.spec.holderIdentity == elector.identity
                else { return }
                lease.spec.holderIdentity = nil
                lease.spec.leaseDurationSeconds = 1
                lease.spec.renewTime = Date()
                _ = try await elector.client.updateLease(lease)
                elector.setLeading(false, reason: "released on shutdown")
            } catch {
                elector.logger.warning("lease-release-failed", metadata: ["error": "\(error)"])
            }
        }

        private mutating func observe(_ spec: Lease.Spec) {
            if spec != observed {
                observed = spec
                observedAt = .now
            }
        }

        /// The lease duration in whole seconds, rounded up: a shorter lease
        /// than configured would let a candidate take over while we act.
        private var leaseSeconds: Int {
            let (seconds, attoseconds) = elector.timing.leaseDuration.components
            return Int(seconds) + (attoseconds > 0 ? 1 : 0)
        }
    }
}
