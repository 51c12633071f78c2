import CTigSystem
import Glibc
import TigAddress

/// `--max-data-size`: the stored bytes stay under a bound, so a store on a
/// memory-backed `emptyDir` never grows until the pod is evicted or
/// OOM-killed. Room is made by deleting the least recently used content
/// blocks (as bazel-remote and memcached do); key slots go only by
/// retention, so a write that would need one of them gone is refused (507).
extension BlockStore {
    /// Whether `bytes` more would pass `--max-data-size`: a counter read, so
    /// a write asks this before anything that costs a system call.
    func needsRoom(for bytes: Int) -> Bool {
        guard let limit = maxDataSize else { return false }
        return statistics.bytes + bytes > limit
    }

    /// Makes room for `bytes` more by evicting the least recently used
    /// content blocks, `kept` excepted; throws out-of-space (507) when that
    /// cannot free enough.
    ///
    /// Candidates come from the retention wheel in filing order; a block
    /// read or written since it was filed is filed again at its real expiry
    /// instead, so what goes is least recently used to within one sweep
    /// step, and the work is proportional to what was evicted plus what was
    /// touched since. Called before the write takes its own address lock
    /// (eviction locks each candidate). Concurrent writes may each find the
    /// same room: the bound can be overshot by the writes in flight.
    func makeRoom(for bytes: Int, keeping kept: BlockAddress) throws {
        guard needsRoom(for: bytes), let limit = maxDataSize else { return }
        guard bytes <= limit else { throw StoreError("store \(bytes) bytes within --max-data-size", code: ENOSPC) }
        var skipped: [(BlockAddress, WallTime)] = []
        defer {
            // Key slots (and `kept`) go back where they were.
            schedule.withLockedValue { schedule in
                for (address, expiry) in skipped { schedule.schedule(address, expiry: expiry) }
            }
        }
        while statistics.bytes + bytes > limit {
            guard let (address, bucket) = schedule.withLockedValue({ $0.takeEarliest() }) else {
                throw StoreError("store \(bytes) bytes within --max-data-size: only key slots left", code: ENOSPC)
            }
            if address == kept {
                skipped.append((address, policy.expiry(lastUse: clock.now())))
                continue
            }
            if let keptSlot = try evictIfLeastRecent(address, filedIn: bucket) {
                skipped.append((address, keptSlot))
            }
        }
    }

    /// Deletes `address` if it is a content block not used since it was
    /// filed in `bucket`; files a used one again at its real expiry. Returns
    /// the expiry of a key slot, which eviction never deletes.
    private func evictIfLeastRecent(_ address: BlockAddress, filedIn bucket: Int64) throws -> WallTime? {
        try locks.withLock(address) {
            guard let status = try statBlockFile(address) else { return nil }
            let expiry = policy.expiry(lastUse: status.lastUse)
            if BlockKind(mode: status.st_mode) == .slot { return expiry }
            let refiled = schedule.withLockedValue { schedule in
                guard schedule.bucket(of: expiry) > bucket else { return false }
                schedule.schedule(address, expiry: expiry)
                return true
            }
            guard !refiled else { return nil }
            try unlinkLocked(address, size: Int(status.st_size))
            statistics.evictedOne()
            return nil
        }
    }

    /// The size of what `address` holds now, 0 when nothing (read without
    /// the lock: an estimate for `makeRoom`).
    func storedSize(of address: BlockAddress) -> Int {
        ((try? statBlockFile(address)) ?? nil).map { Int($0.st_size) } ?? 0
    }
}
