import Dispatch
import Glibc

/// SIGTERM and SIGINT (Kubernetes stops a pod with SIGTERM), caught from the
/// moment this is created, so a signal that arrives while the program starts
/// still leads to a clean shutdown. The first signal starts the shutdown; a
/// program may wait for a second one to cut it short.
///
/// Unchecked Sendable: the dispatch sources are only retained after `init`,
/// and the stream is Sendable.
public final class ShutdownSignals: @unchecked Sendable {
    private let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    public init() {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        self.stream = stream
        self.sources = [SIGTERM, SIGINT].map { number in
            // The default action would end the process before it cleaned up.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
    }

    deinit {
        sources.forEach { $0.cancel() }
    }

    /// The next signal; callers wait one at a time.
    public func next() async -> Int32 {
        for await number in stream {
            return number
        }
        return SIGTERM
    }
}
