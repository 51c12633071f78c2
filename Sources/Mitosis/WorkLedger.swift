/// Turns raw work counters scraped from pods into `WorkSample`s that survive
/// restarts: a counter counts from its process's start, and falls back to
/// zero when the container restarts.
///
/// - A pod seen for the first time counts from its container's start, so an
///   operator that restarts mid-life measures the pod's whole life again.
/// - A new container start time (a restart the kubelet reported) starts a new
///   baseline at that time, from zero.
/// - A counter lower than the last one seen, with no new start time, is a
///   reset nobody reported: the current value becomes the baseline, taken
///   now, and the pod is unmeasured until a window has passed again.
public struct WorkLedger: Sendable {
    private struct Entry: Sendable {
        var baselineAmount: Double
        var baselineAt: Double
        var counterStartedAt: Double
        var last: Double
    }

    private var entries: [String: Entry] = [:]

    public init() {}

    public mutating func record(
        uid: String, counter: Double, counterStartedAt: Double, at now: Double
    ) -> WorkSample {
        var entry =
            entries[uid]
            ?? Entry(baselineAmount: 0, baselineAt: counterStartedAt, counterStartedAt: counterStartedAt, last: 0)
        if counterStartedAt != entry.counterStartedAt {
            entry = Entry(baselineAmount: 0, baselineAt: counterStartedAt, counterStartedAt: counterStartedAt, last: 0)
        } else if counter < entry.last {
            entry.baselineAmount = counter
            entry.baselineAt = now
        }
        entry.last = counter
        entries[uid] = entry
        return WorkSample(amount: counter - entry.baselineAmount, since: entry.baselineAt)
    }

    /// Drops pods that no longer exist, so the ledger does not grow forever.
    public mutating func keepOnly(uids: Set<String>) {
        entries = entries.filter { uids.contains($0.key) }
    }
}
