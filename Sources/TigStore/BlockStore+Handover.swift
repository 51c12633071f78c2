import CTigSystem
import Glibc
import TigAddress

/// Giving a block up once another pod holds it (rebalancing and drain).
extension BlockStore {
    /// What `evict` found.
    public enum Eviction: Sendable, Equatable {
        /// Removed, or gone already (taken, deleted or swept).
        case evicted
        /// Kept: appended to since it was handed over.
        case appendedSince
        /// Kept: replaced since it was handed over (a new file).
        case replacedSince
    }

    /// Removes a block of any kind once another pod holds it, if it is still
    /// exactly `handedOver`; otherwise says how it was written since, so
    /// that the newer bytes can be passed on first.
    public func evict(_ address: BlockAddress, ifStill handedOver: BlockFile) throws -> Eviction {
        try locks.withLock(address) {
            var status = stat()
            let found = address.withFileName { tig_stat_at(directoryDescriptor, $0, &status) }
            guard found == 0 else { return .evicted }
            let size = Int(status.st_size)
            switch (status.st_ino == handedOver.inode, size) {
            case (true, handedOver.size):
                try unlinkLocked(address, size: size)
                return .evicted
            case (true, let longer) where longer > handedOver.size:
                return .appendedSince
            default:
                return .replacedSince
            }
        }
    }
}
