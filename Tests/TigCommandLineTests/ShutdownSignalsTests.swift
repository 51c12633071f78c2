import Glibc
import Testing

@testable import TigCommandLine

/// Serialized: every instance sees every signal the process gets. SIGTERM,
/// not SIGINT: Swift Testing takes SIGINT to cancel the run.
@Suite(.serialized) struct ShutdownSignalsTests {
    /// One for the process, as in the executables: libdispatch installs its
    /// handler for a signal once, and a later `signal(SIG_IGN)` replaces it.
    static let signals = ShutdownSignals()

    /// A wait that is given up (as when a delay ran out first) must not end
    /// the signals: the next wait still gets the next signal.
    @Test func aCancelledWaitLeavesLaterSignalsToTheNextOne() async throws {
        let signals = Self.signals
        let givenUp = Task { await signals.next() }
        givenUp.cancel()
        #expect(await givenUp.value == nil)
        kill(getpid(), SIGTERM)
        #expect(await signals.next() == SIGTERM)
    }

    /// (One at a time: the kernel keeps one pending signal of a kind.)
    @Test func aSignalBeforeTheWaitIsKept() async throws {
        let signals = Self.signals
        for _ in 0..<2 {
            kill(getpid(), SIGTERM)
            #expect(await signals.next() == SIGTERM)
        }
    }
}
