import Dispatch
import Glibc

/// SIGTERM and SIGINT (Kubernetes stops a pod with SIGTERM), caught from the
/// moment this is created, so a signal that arrives while the program starts
/// still leads to a clean shutdown. The first signal starts the shutdown; a
/// program may wait for a second one to cut a wait short, as often as it
/// likes: a wait that is given up (its task cancelled) leaves the signals
/// that come later for the next one. (An `AsyncStream` ends for good when a
/// task waiting on it is cancelled, which made every later wait return at
/// once.)
///
/// Make one per process: libdispatch installs its own handler for a signal
/// once, and the `SIG_IGN` a second instance sets would replace it.
///
/// Unchecked Sendable: `received` and `waiters` are only touched on `queue`;
/// the dispatch sources are only retained after `init`.
public final class ShutdownSignals: @unchecked Sendable {
    private let queue = DispatchQueue(label: "tig.shutdown-signals")
    private var sources: [any DispatchSourceSignal] = []
    /// Signals no wait has taken yet, oldest first.
    private var received: [Int32] = []
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Int32?, Never>)] = []
    /// Waits cancelled before they were registered.
    private var cancelled: Set<UInt64> = []
    private var nextID: UInt64 = 0

    private static let numbers = [SIGTERM, SIGINT]

    public init() {
        sources = Self.numbers.map { number in
            // The default action would end the process before it cleaned up.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [weak self] in self?.deliver(number) }
            source.resume()
            return source
        }
    }

    deinit {
        sources.forEach { $0.cancel() }
    }

    /// On `queue`.
    private func deliver(_ number: Int32) {
        if waiters.isEmpty {
            received.append(number)
        } else {
            waiters.removeFirst().continuation.resume(returning: number)
        }
    }

    /// The next signal, or nil when the waiting task is cancelled first.
    public func next() async -> Int32? {
        let id = queue.sync { () -> UInt64 in
            nextID += 1
            return nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int32?, Never>) in
                queue.async { [self] in
                    if cancelled.remove(id) != nil {
                        continuation.resume(returning: nil)
                    } else if !received.isEmpty {
                        continuation.resume(returning: received.removeFirst())
                    } else {
                        waiters.append((id, continuation))
                    }
                }
            }
        } onCancel: {
            queue.async { [self] in
                if let index = waiters.firstIndex(where: { $0.id == id }) {
                    waiters.remove(at: index).continuation.resume(returning: nil)
                } else {
                    cancelled.insert(id)
                }
            }
        }
    }

    /// Sleeps for `delay`, or until the next signal if that comes first (a
    /// second signal cuts a shutdown's wait short).
    public func sleep(for delay: Duration) async {
        guard delay > .zero else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: delay) }
            group.addTask { _ = await self.next() }
            await group.next()
            group.cancelAll()
        }
    }
}
