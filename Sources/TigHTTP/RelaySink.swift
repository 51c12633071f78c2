import NIOCore
import NIOHTTP1
import TigAddress

/// Streams a peer's answer to the client unchanged (status, headers, body),
/// with the client connection's backpressure.
final class RelaySink: PeerAnswerSink {
    /// What replaces the peer's answer, once, so that the request is looked
    /// up again instead: a 404 (the peer did nothing) with `afterNotFound`;
    /// any failure before an answer with `afterAnyFailure` (for requests
    /// that change nothing); and always a peer that could not be reached
    /// (it did nothing either). `action` learns whether the peer failed.
    struct AskAgain {
        let afterNotFound: Bool
        let afterAnyFailure: Bool
        let action: (_ failed: Bool) -> Void
    }

    private let writer: ResponseWriter
    private let metrics: ServerMetrics
    private let contentType: String?
    private var askAgain: AskAgain?
    private var collector: HotCollector?
    /// The answer was handed to `askAgain`: ignore the rest of it.
    private var abandoned = false

    /// The only headers of a peer's answer that reach the client: what tig
    /// itself answers with. Anything else (a `Set-Cookie`, hop-by-hop
    /// headers the writer sets itself) is dropped.
    static let relayedHeaders: Set<String> = [
        "content-type", "content-length", "cache-control", "etag", "last-modified", "expires", "age", "vary",
        "accept-ranges", "content-range", "allow", "www-authenticate", "retry-after", kindHeader.lowercased(),
    ]

    init(writer: ResponseWriter, metrics: ServerMetrics, contentType: String? = nil, askAgain: AskAgain? = nil, keepHot: HotFill? = nil) {
        self.writer = writer
        self.metrics = metrics
        self.contentType = contentType
        self.askAgain = askAgain
        self.collector = keepHot.map(HotCollector.init)
    }

    /// Hands the request back to be looked up again, once.
    private func handBack(when allowed: (AskAgain) -> Bool, failed: Bool) -> Bool {
        guard let askAgain, allowed(askAgain) else { return false }
        self.askAgain = nil
        abandoned = true
        askAgain.action(failed)
        return true
    }

    func peerAnswerHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        if head.status == .notFound, handBack(when: \.afterNotFound, failed: false) {
            return writer.eventLoop.makeSucceededVoidFuture()
        }
        var headers = HTTPHeaders()
        for (name, value) in head.headers where Self.relayedHeaders.contains(name.lowercased()) {
            headers.add(name: name, value: value)
        }
        if let contentType, head.status == .ok {
            headers.replaceOrAdd(name: "content-type", value: contentType)
        }
        metrics.recordForward(.hit)
        collector?.begin(head)
        writer.beginStream(head.status, headers: headers)
        return writer.eventLoop.makeSucceededVoidFuture()
    }

    func peerAnswerBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        guard !abandoned else { return writer.eventLoop.makeSucceededVoidFuture() }
        collector?.add(buffer)
        return writer.writeBody(buffer)
    }

    func peerAnswerEnd() {
        guard !abandoned else { return }
        writer.endStream()
        collector?.finish(metrics: metrics)
    }

    func peerAnswerFailed(_ error: any Error) {
        guard !abandoned else { return }
        metrics.recordForward(.error)
        let unreachable = error is PeerUnreachable
        if !writer.hasStarted, handBack(when: { unreachable || $0.afterAnyFailure }, failed: true) { return }
        if writer.hasStarted {
            writer.abort()
        } else {
            writer.fail(.badGateway)
        }
    }
}
