import Foundation
import NIOPosix
import Synchronization

/// Runs libcurl's blocking transfers away from Swift's cooperative thread
/// pool, whose few threads must never block: short requests on a small
/// NIOThreadPool, each long-lived stream on a thread of its own. Short
/// requests reuse a handle per pool thread, and with it the open connection.
public final class CurlExecutor: Sendable {
    private let pool: NIOThreadPool
    private let handles: CurlHandlePool

    public init(threads: Int = 4) {
        pool = NIOThreadPool(numberOfThreads: threads)
        handles = CurlHandlePool(capacity: threads)
        pool.start()
    }

    public func shutdown() async throws {
        try await pool.shutdownGracefully()
    }

    /// Performs a request; cancelling the task aborts the transfer within about a second.
    public func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        let flag = CancellationFlag()
        return try await withTaskCancellationHandler {
            try await pool.runIfActive { [handles] () throws(TransportError) -> HTTPResponse in
                try handles.withHandle { easy throws(TransportError) in
                    try CurlTransfer.perform(request, on: easy, isCancelled: flag.isSet)
                }
            }
        } onCancel: {
            flag.set()
        }
    }

    /// Opens a stream (a watch): the body of a 2xx answer arrives in chunks as
    /// the server sends it. Any other status ends the stream with
    /// `UnexpectedStatus` carrying the whole answer. Dropping the stream
    /// aborts the transfer and ends its thread.
    public func stream(_ request: HTTPRequest) -> AsyncThrowingStream<[UInt8], any Error> {
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        let flag = CancellationFlag()
        continuation.onTermination = { _ in flag.set() }
        let thread = Thread {
            do {
                // A stream holds its connection for as long as it lasts: a handle of its own.
                let response = try CurlTransfer.perform(request, on: try CurlEasy(), isCancelled: flag.isSet) { chunk in
                    continuation.yield(Array(chunk))
                }
                if (200..<300).contains(response.status) {
                    continuation.finish()
                } else {
                    continuation.finish(throwing: UnexpectedStatus(response: response))
                }
            } catch {
                continuation.finish(throwing: error)
            }
        }
        thread.name = "curl-stream"
        thread.start()
        return stream
    }
}

/// A non-2xx answer where the caller expected a stream.
public struct UnexpectedStatus: Error {
    public var response: HTTPResponse
}

/// Set once from any thread (task cancellation, stream termination), read by
/// curl's progress callback on the transfer's thread.
final class CancellationFlag: Sendable {
    private let flag = Atomic(false)

    func set() { flag.store(true, ordering: .relaxed) }

    @Sendable func isSet() -> Bool { flag.load(ordering: .relaxed) }
}
