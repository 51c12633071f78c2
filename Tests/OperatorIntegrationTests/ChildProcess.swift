import Foundation

/// A program the tests start, with its output in a file for the test to
/// read (and to show when a test fails).
final class ChildProcess: @unchecked Sendable {
    // Foundation's Process is safe to query and signal from any thread;
    // everything else here is immutable.
    private let process = Process()
    let outputPath: String

    init(
        _ executable: String, _ arguments: [String], directory: URL? = nil, environment: [String: String] = [:],
        output: String
    ) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = directory }
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardOutput = handle
        process.standardError = handle
        outputPath = output
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    var output: String {
        (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }

    func signal(_ number: Int32) {
        if process.isRunning { kill(process.processIdentifier, number) }
    }

    /// Waits for the exit and returns its status; SIGKILLs after `timeout`.
    @discardableResult
    func waitForExit(timeout: Duration = .seconds(15)) async -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            signal(SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// SIGTERM, then wait.
    @discardableResult
    func stop(timeout: Duration = .seconds(15)) async -> Int32 {
        signal(SIGTERM)
        return await waitForExit(timeout: timeout)
    }
}
