import CTigSystem
import Glibc
import TigAddress

/// Retention: every block is filed once in the time wheel by its expiry, and
/// the sweeper deletes what comes due unless it was used meanwhile.
extension BlockStore {
    func fileForRetention(_ address: BlockAddress) {
        let expiry = policy.expiry(lastUse: clock.now())
        schedule.withLockedValue { $0.schedule(address, expiry: expiry) }
    }

    /// Deletes every block whose timer ran out by `now`, re-filing those that
    /// were used since they were filed. Returns how many were deleted.
    @discardableResult
    public func sweep(now: WallTime) -> Int {
        let due = schedule.withLockedValue { $0.takeDue(now: now) }
        var deleted = 0
        for address in due {
            do {
                if try expireIfIdle(address, now: now) { deleted += 1 }
            } catch {
                logger.warning("sweep-failed", metadata: ["address": "\(address)", "error": "\(error)"])
                schedule.withLockedValue { $0.schedule(address, expiry: now + policy.sweepStep) }
            }
        }
        return deleted
    }

    private func expireIfIdle(_ address: BlockAddress, now: WallTime) throws -> Bool {
        try locks.withLock(address) {
            guard let status = try statBlockFile(address) else { return false }
            let expiry = policy.expiry(lastUse: status.lastUse)
            guard expiry <= now else {
                schedule.withLockedValue { $0.schedule(address, expiry: expiry) }
                return false
            }
            try unlinkLocked(address, size: Int(status.st_size))
            statistics.sweptOne()
            return true
        }
    }

    /// The block file at `address`; nil when there is none (or it is an
    /// append journal's record).
    func statBlockFile(_ address: BlockAddress) throws -> stat? {
        var status = stat()
        let found = address.withFileName { tig_stat_at(directoryDescriptor, $0, &status) }
        guard found == 0 else {
            if errno == ENOENT { return nil }
            throw StoreError("stat \(address)")
        }
        return status.isBlockFile ? status : nil
    }

    /// When the sweeper should next run.
    public var nextSweep: WallTime {
        schedule.withLockedValue { $0.nextStepEnd }
    }

    /// How many addresses the retention schedule tracks.
    public var scheduledCount: Int {
        schedule.withLockedValue { $0.count }
    }
}
