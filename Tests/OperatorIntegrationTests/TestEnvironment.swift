import Foundation

/// Where the integration tests find the repository and the programs they run.
enum TestEnvironment {
    /// The repository (this file is Tests/OperatorIntegrationTests/…;
    /// symlinks resolved, so a scratch package that links the sources works too).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The directory of the test binary, where SwiftPM also puts the package's executables.
    static let buildDirectory: URL = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent()
    }()

    /// `tig-operator`, built with the tests (override: TIG_OPERATOR_BIN).
    static var operatorBinary: String {
        ProcessInfo.processInfo.environment["TIG_OPERATOR_BIN"]
            ?? buildDirectory.appendingPathComponent("tig-operator").path
    }

    /// `tig`, for real `tig serve` pods: next to the operator when built in
    /// the same package, else the repository's own build (override: TIG_BIN).
    static var tigBinary: String {
        if let path = ProcessInfo.processInfo.environment["TIG_BIN"] { return path }
        let sibling = buildDirectory.appendingPathComponent("tig").path
        if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        return repositoryRoot.appendingPathComponent(".build/debug/tig").path
    }

    static func temporaryDirectory(_ prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var description: String
}

/// Polls `probe` until it returns a value, or fails after `timeout` saying
/// what was awaited: the tests synchronise on observed state, never on sleeps.
@discardableResult
func eventually<T>(
    _ what: String, timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(200),
    _ probe: () async throws -> T?
) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    var lastError: (any Error)?
    while ContinuousClock.now < deadline {
        do {
            if let value = try await probe() { return value }
        } catch {
            lastError = error
        }
        try await Task.sleep(for: interval)
    }
    throw TimedOut(description: "timed out after \(timeout) waiting for \(what)" + (lastError.map { " (last error: \($0))" } ?? ""))
}
