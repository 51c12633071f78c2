import Synchronization

/// Easy handles kept between requests, so that consecutive requests to the
/// API server (and to each pod's metrics) travel over one keep-alive
/// connection instead of a new TCP and TLS handshake each time. At most
/// `capacity` handles are kept: one per thread that performs transfers.
final class CurlHandlePool: Sendable {
    private let idle = Mutex<[CurlEasy]>([])
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Runs `body` with a handle no other transfer is using, and keeps the
    /// handle (options cleared, connections open) for the next one.
    func withHandle<Result>(_ body: (CurlEasy) throws(TransportError) -> Result) throws(TransportError) -> Result {
        let easy: CurlEasy
        if let kept = idle.withLock({ $0.popLast() }) { easy = kept } else { easy = try CurlEasy() }
        defer {
            easy.reset()
            idle.withLock { handles in
                if handles.count < capacity { handles.append(easy) }
            }
        }
        return try body(easy)
    }
}
