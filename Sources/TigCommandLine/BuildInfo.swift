import CTigBuildInfo

/// What `--version` prints and `tig_build_info` reports, for both executables.
public enum BuildInfo {
    /// The release, as the chart's appVersion.
    public static let version = "0.1.0"

    /// The source revision stamped in at build time (scripts/stamp-revision.sh), or "unknown".
    public static let revision = String(cString: tig_build_revision())

    /// `0.1.0 (revision 2a5da8e1c0ff)`: ArgumentParser prints it for `--version`.
    public static let versionLine = "\(version) (revision \(revision))"
}
