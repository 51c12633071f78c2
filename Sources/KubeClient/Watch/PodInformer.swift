import Logging
import Synchronization

/// Keeps a `PodCache` of the pods a label selector matches, current through
/// list + watch: it lists once, watches from the list's resourceVersion
/// (with bookmarks, so the version stays fresh on a quiet stream), resumes a
/// watch the server ended from the last version seen, reconnects a dropped
/// one with backoff, and lists again when told the version is gone (410,
/// as an HTTP answer or as an ERROR event in the stream).
///
/// A watch can die silently (a half-open connection, a hung server): the
/// stream stays open and nothing arrives. So every watch asks the server to
/// end it after half the `staleness` bound, and gives up on it by itself
/// once `staleness` has passed: a dead watch is noticed within that bound,
/// and a live one costs one cheap request per half bound (it resumes from
/// the last version, no list).
public final class PodInformer: Sendable {
    private struct State: Sendable {
        var cache = PodCache()
        var synced = false
    }

    private let client: KubernetesClient
    private let namespace: String
    private let labelSelector: String
    /// What the server is asked for (`timeoutSeconds`), and when the
    /// transfer is abandoned if the server has not ended it.
    private let serverTimeout: Int
    private let staleness: Double
    private let backoff: RetryPolicy
    private let logger: Logger
    private let state = Mutex(State())

    public init(
        client: KubernetesClient, namespace: String, labelSelector: String, staleness: Double = 300,
        backoff: RetryPolicy = RetryPolicy(baseDelay: 0.5, maxDelay: 30), logger: Logger
    ) {
        self.client = client
        self.namespace = namespace
        self.labelSelector = labelSelector
        // The server's timeout is in whole seconds; one second at least.
        self.serverTimeout = max(1, Int((staleness / 2).rounded(.up)))
        self.staleness = max(staleness, Double(serverTimeout) + 1)
        self.backoff = backoff
        self.logger = logger
    }

    /// The pods as last seen; nil until the first list has arrived.
    public var pods: [Pod]? {
        state.withLock { $0.synced ? Array($0.cache.pods.values) : nil }
    }

    /// Runs until the task is cancelled.
    public func run() async {
        var mustList = true
        var failures = 0
        while !Task.isCancelled {
            var sawEvents = false
            var endedCleanly = false
            let opened = ContinuousClock.now
            do {
                if mustList {
                    try await list()
                    mustList = false
                }
                switch try await watch(sawEvents: &sawEvents) {
                case .expired:
                    logger.info("watch-expired", metadata: ["action": "relist"])
                    mustList = true
                    continue
                case .ended:
                    endedCleanly = true
                }
            } catch let error as KubeAPIError where error.isGone {
                logger.info("watch-expired", metadata: ["action": "relist"])
                mustList = true
                continue
            } catch let error as TransportError where error.isTimeout {
                logger.warning("watch-stalled", metadata: ["silentFor": "\(staleness)", "action": "resume"])
            } catch {
                if Task.isCancelled { return }
                logger.warning("watch-failed", metadata: ["error": "\(error)"])
            }
            // A stream that delivered events, or that the server ended at
            // the timeout it was asked for, was healthy: start the backoff
            // over and resume at once. Pause after a failure, and after a
            // stream the server ended early without any event (a server
            // closing every watch at once must not be hammered).
            let healthy = endedCleanly && (sawEvents || ContinuousClock.now - opened >= .seconds(serverTimeout))
            if healthy { failures = 0 }
            if !healthy && !Task.isCancelled {
                await pause(after: &failures)
            }
        }
    }

    private func pause(after failures: inout Int) async {
        let wait = backoff.delay(afterAttempt: failures, retryAfter: nil, random: .random(in: 0..<1))
        failures += 1
        logger.debug("watch-resume", metadata: ["in": "\(wait)"])
        try? await Task.sleep(for: .seconds(wait))
    }

    private func list() async throws {
        let list = try await client.listPods(namespace: namespace, labelSelector: labelSelector)
        state.withLock {
            $0.cache.replace(with: list)
            $0.synced = true
        }
        logger.debug("pods-listed", metadata: ["count": "\(list.items.count)", "resourceVersion": "\(list.metadata.resourceVersion ?? "")"])
    }

    private enum WatchEnd {
        /// The server closed the stream (its timeout, or a dropped connection
        /// that still ended cleanly): resume from the last version seen.
        case ended
        case expired
    }

    private func watch(sawEvents: inout Bool) async throws -> WatchEnd {
        let version = state.withLock { $0.cache.resourceVersion ?? "" }
        let events = client.watchPods(
            namespace: namespace, labelSelector: labelSelector, resourceVersion: version,
            timeoutSeconds: serverTimeout, giveUpAfter: staleness)
        for try await event in events {
            sawEvents = true
            switch state.withLock({ $0.cache.apply(event) }) {
            case .applied: continue
            case .expired: return .expired
            case .failed(let status): throw KubeAPIError.status(code: status.code ?? 500, status)
            }
        }
        return .ended
    }
}
