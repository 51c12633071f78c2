/// A pod's own lifetime: the configured lifetime stretched or shrunk by a
/// factor fixed by the pod's UID. Fixed, so the expiry never moves between
/// intervals or between operator restarts; spread, so pods started together
/// do not all expire together.
public enum LifetimeJitter {
    /// `lifetime · (1 + u)` with `u = jitter · (2x − 1)`, `x` uniform in [0, 1)
    /// from a stable hash of the UID, so `u` is in `[-jitter, +jitter)`.
    public static func lifetime(ofPodWithUID uid: String, config: MitosisConfig) -> Double {
        config.lifetime * (1 + config.lifetimeJitter * (2 * unitInterval(uid) - 1))
    }

    /// A stable hash of the UID mapped to [0, 1). FNV-1a spreads the UTF-8
    /// bytes into 64 bits; the SplitMix64 finaliser mixes them so that UIDs
    /// differing in one character land far apart. Swift's own `Hasher` is
    /// seeded per process and would move expiries on every restart.
    static func unitInterval(_ uid: String) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in uid.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
        hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        // The top 53 bits fill a Double's mantissa exactly: the result is < 1.
        return Double(hash >> 11) / Double(UInt64(1) << 53)
    }
}
