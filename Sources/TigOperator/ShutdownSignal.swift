import Dispatch
import Foundation

/// SIGTERM or SIGINT (Kubernetes stops a pod with SIGTERM), caught from the
/// moment this is created, so that a signal arriving while the operator
/// starts still leads to a clean shutdown that releases the Lease.
final class ShutdownSignal {
    private let signals: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    init() {
        let (signals, continuation) = AsyncStream<Int32>.makeStream()
        self.signals = signals
        sources = [SIGTERM, SIGINT].map { number in
            // The default action would end the process before the Lease is released.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
    }

    deinit {
        sources.forEach { $0.cancel() }
    }

    /// Returns the first signal received.
    func wait() async -> Int32 {
        for await number in signals {
            return number
        }
        return SIGTERM
    }
}
