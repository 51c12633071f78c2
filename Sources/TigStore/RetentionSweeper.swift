import Foundation
import Logging
import NIOConcurrencyHelpers

/// The wall clock the file system uses for modification times.
public struct SystemWallClock: WallClock {
    public init() {}

    public func now() -> WallTime {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return WallTime(time.tv_sec) * 1_000_000_000 + WallTime(time.tv_nsec)
    }
}

/// Runs the store's retention sweep on its own thread, one step at a time,
/// so expiring even a million blocks never stalls a request.
public final class RetentionSweeper: Sendable {
    private let store: BlockStore
    private let clock: any WallClock
    private let logger: Logger
    /// True once `stop()` was called; the thread waits on it between steps.
    private let stopped = ConditionLock(value: false)

    public init(store: BlockStore, clock: any WallClock, logger: Logger) {
        self.store = store
        self.clock = clock
        self.logger = logger
    }

    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = "tig-sweeper"
        thread.start()
    }

    public func stop() {
        stopped.lock()
        stopped.unlock(withValue: true)
    }

    private func run() {
        while true {
            let wait = Double(max(store.nextSweep - clock.now(), 0)) / 1e9
            if stopped.lock(whenValue: true, timeoutSeconds: wait) {
                stopped.unlock()
                return
            }
            let deleted = store.sweep(now: clock.now())
            if deleted > 0 {
                logger.debug("swept", metadata: ["deleted": "\(deleted)", "tracked": "\(store.scheduledCount)"])
            }
        }
    }
}
