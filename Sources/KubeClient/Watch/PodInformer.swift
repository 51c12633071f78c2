import Logging
import Synchronization

/// Keeps a `PodCache` of the pods a label selector matches, current through
/// list + watch: it lists once, watches from the list's resourceVersion
/// (with bookmarks, so the version stays fresh on a quiet stream), resumes a
/// watch the server ended from the last version seen, reconnects a dropped
/// one with backoff, and lists again when told the version is gone (410,
/// as an HTTP answer or as an ERROR event in the stream).
public final class PodInformer: Sendable {
    private struct State: Sendable {
        var cache = PodCache()
        var synced = false
    }

    private let client: KubernetesClient
    private let namespace: String
    private let labelSelector: String
    private let watchTimeout: Int
    private let backoff: RetryPolicy
    private let logger: Logger
    private let state = Mutex(State())

    public init(
        client: KubernetesClient, namespace: String, labelSelector: String, watchTimeout: Int = 300,
        backoff: RetryPolicy = RetryPolicy(baseDelay: 0.5, maxDelay: 30), logger: Logger
    ) {
        self.client = client
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.watchTimeout = watchTimeout
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
            } catch {
                if Task.isCancelled { return }
                logger.warning("watch-failed", metadata: ["error": "\(error)"])
            }
            // A stream that delivered events was healthy: start the backoff
            // over. Resume at once after a server's clean end; pause after a
            // failure, and after a stream that ended without any event (a
            // server closing every watch at once must not be hammered).
            if sawEvents { failures = 0 }
            if !(endedCleanly && sawEvents) && !Task.isCancelled {
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
            timeoutSeconds: watchTimeout)
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
