import NIOCore
import TigAddress

/// A point in wall-clock time, in nanoseconds since the Unix epoch: the unit
/// of file modification times, which are the blocks' retention timers.
public typealias WallTime = Int64

public protocol WallClock: Sendable {
    func now() -> WallTime
}

/// When a block expires. Pure: every input, the clock included, is a value.
public struct RetentionPolicy: Sendable, Equatable {
    /// How long a block may go unread and unwritten.
    public let retention: Int64
    /// When this server started; older timers restart from here.
    public let startTime: WallTime

    public init(retention: Duration, startTime: WallTime) {
        precondition(retention > .zero, "retention must be positive")
        self.retention = retention.nanoseconds
        self.startTime = startTime
    }

    /// A block last used at `lastUse` expires at this time. A block older than
    /// the server's start counts as used at the start, so a restart gives every
    /// block a full period again.
    public func expiry(lastUse: WallTime) -> WallTime {
        max(lastUse, startTime) + retention
    }

    public func isExpired(lastUse: WallTime, now: WallTime) -> Bool {
        expiry(lastUse: lastUse) <= now
    }

    /// A read resets the timer only once it has aged this much, so a hot block
    /// does not cost a metadata write per read. A tenth of the period (at most
    /// a second) keeps the block far from expiry.
    public var touchGranularity: Int64 {
        min(1_000_000_000, retention / 10)
    }

    public func needsTouch(lastUse: WallTime, now: WallTime) -> Bool {
        now - lastUse >= touchGranularity
    }

    /// The sweep runs in this many steps per retention period.
    public static let stepsPerPeriod: Int64 = 64

    /// Width of one sweep step (at least 10 ms).
    public var sweepStep: Int64 {
        max(retention / Self.stepsPerPeriod, 10_000_000)
    }
}

extension Duration {
    /// The duration in whole nanoseconds (the unit of `WallTime`).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Every block address the store knows, filed under the sweep step in which
/// it may expire: a time wheel. Each address is filed once, so a sweep step
/// costs what comes due in it, never a scan of the whole directory.
///
/// An entry's step is never later than the block's real expiry (timers only
/// move forward), so checking entries as they come due never deletes late by
/// more than one step and never early: the sweeper re-checks the file and
/// re-files it when it was used in the meantime.
public struct RetentionSchedule: Sendable {
    public let step: Int64
    /// Each step's addresses in filing order (eviction takes the oldest first).
    private var buckets: [Int64: CircularBuffer<BlockAddress>] = [:]
    private var bucketOfAddress: [BlockAddress: Int64] = [:]
    /// Buckets before this one have been handed out.
    private var nextBucket: Int64

    public init(step: Int64, now: WallTime) {
        precondition(step > 0)
        self.step = step
        self.nextBucket = now / step
    }

    public var count: Int { bucketOfAddress.count }

    /// Files `address` to come due at `expiry`, unless it is already filed
    /// (its existing entry is due no later, and will be re-filed then).
    public mutating func schedule(_ address: BlockAddress, expiry: WallTime) {
        guard bucketOfAddress[address] == nil else { return }
        // Round up: a bucket is handed out once its end has passed.
        let bucket = bucket(of: expiry)
        bucketOfAddress[address] = bucket
        buckets[bucket, default: []].append(address)
    }

    /// Removes and returns every address filed in a step that has fully passed.
    public mutating func takeDue(now: WallTime) -> [BlockAddress] {
        var due: [BlockAddress] = []
        let lastDueBucket = now / step
        while nextBucket <= lastDueBucket {
            if let addresses = buckets.removeValue(forKey: nextBucket) {
                for address in addresses {
                    bucketOfAddress.removeValue(forKey: address)
                }
                due.append(contentsOf: addresses)
            }
            nextBucket += 1
        }
        return due
    }

    /// Removes and returns the entry filed earliest, with its step, however
    /// far in the future (eviction under `--max-data-size` takes them in
    /// this order); the sweep's own progress is unchanged.
    public mutating func takeEarliest() -> (address: BlockAddress, bucket: Int64)? {
        guard !bucketOfAddress.isEmpty else { return nil }
        // Every entry is filed at or after `nextBucket` and at most one
        // retention period ahead (64 steps), so this walks a bounded range.
        var bucket = nextBucket
        while true {
            if let address = buckets[bucket]?.popFirst() {
                if buckets[bucket]?.isEmpty == true { buckets[bucket] = nil }
                bucketOfAddress[address] = nil
                return (address, bucket)
            }
            bucket += 1
        }
    }

    /// The step an expiry is filed under.
    public func bucket(of expiry: WallTime) -> Int64 {
        max((expiry + step - 1) / step, nextBucket)
    }

    /// When the next step ends (the sweeper sleeps until then).
    public var nextStepEnd: WallTime {
        nextBucket * step
    }
}
