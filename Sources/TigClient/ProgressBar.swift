import Glibc
import NIOConcurrencyHelpers
import NIOCore

/// A one-line progress bar on standard error, drawn only when standard error
/// is a terminal, so redirected output and logs stay clean. Any task may
/// advance it; it redraws at most ten times a second.
public final class ProgressBar: Sendable {
    private struct State {
        var total: Int64?
        var done: Int64 = 0
        var lastDrawn: ContinuousClock.Instant?
        let started = ContinuousClock.now
    }

    private let label: String
    private let state: NIOLockedValueBox<State>

    private init(label: String, total: Int64?) {
        self.label = label
        self.state = NIOLockedValueBox(State(total: total))
    }

    /// Nil when standard error is not a terminal: callers then report nothing.
    public static func onTerminal(_ label: String, total: Int64? = nil) -> ProgressBar? {
        isatty(STDERR_FILENO) == 1 ? ProgressBar(label: label, total: total) : nil
    }

    public func setTotal(_ total: Int64?) {
        state.withLockedValue { $0.total = total }
    }

    public func advance(by bytes: Int) {
        let line: String? = state.withLockedValue { state in
            state.done += Int64(bytes)
            let now = ContinuousClock.now
            if let last = state.lastDrawn, now - last < .milliseconds(100) { return nil }
            state.lastDrawn = now
            return render(state, now: now)
        }
        if let line { draw(line) }
    }

    /// Erases the bar.
    public func finish() {
        draw("")
    }

    private func render(_ state: State, now: ContinuousClock.Instant) -> String {
        let elapsed = now - state.started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? ByteCount.describe(Int64(Double(state.done) / seconds)) + "/s" : ""
        guard let total = state.total, total > 0 else {
            return "\(label) \(ByteCount.describe(state.done)) \(rate)"
        }
        let fraction = min(1, Double(state.done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        return "\(label) [\(bar)] \(Int(fraction * 100))% \(ByteCount.describe(state.done)) / \(ByteCount.describe(total)) \(rate)"
    }

    private func draw(_ line: String) {
        // Carriage return, the line, then erase whatever a longer line left.
        try? OpenFile.standardError.write(ByteBuffer(string: "\r" + line + "\u{1B}[K"))
    }
}
