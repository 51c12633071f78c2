import Glibc
import NIOCore
import NIOHTTP1
import TigStore

/// Writes the one response to one request into the channel: simple answers,
/// whole blocks, or a stream of parts (bursts, answers relayed from peers).
/// Records the request's metrics and tells the connection when it is done.
///
/// Lives on the channel's event loop, like the handler that made it.
final class ResponseWriter {
    private let context: ChannelHandlerContext
    private let server: ServerContext
    private let method: HTTPMethod
    private let uri: String
    private let version: HTTPVersion
    private let started: NIODeadline
    private var keepAlive: Bool
    private let onComplete: (_ keepAlive: Bool) -> Void
    private var status: HTTPResponseStatus = .ok
    private var headSent = false
    private var flushScheduled = false
    private(set) var isComplete = false
    /// Off for `/healthz`, `/readyz` and `/metrics`: the request metrics are
    /// the pod's work (what the operator scales on), which probes and
    /// scrapes are not.
    var countsAsWork = true

    /// Slice of a streamed block per write: each completed slice counts as
    /// progress for the idle timeout, and bounds memory over TLS.
    static let streamSlice = 256 * 1024
    static let fileRegionSlice = 4 << 20

    init(
        context: ChannelHandlerContext, server: ServerContext, head: HTTPRequestHead, started: NIODeadline,
        onComplete: @escaping (_ keepAlive: Bool) -> Void
    ) {
        self.context = context
        self.server = server
        self.method = head.method
        self.uri = head.uri
        self.version = head.version
        self.keepAlive = head.isKeepAlive
        self.started = started
        self.onComplete = onComplete
    }

    var eventLoop: any EventLoop { context.eventLoop }
    var allocator: ByteBufferAllocator { context.channel.allocator }

    // MARK: - Whole answers

    /// An error (or bodiless) answer: the status and an empty body. With
    /// `close`, the connection closes after it (used when a request body is
    /// still on its way and will not be read).
    func fail(_ status: HTTPResponseStatus, close: Bool = false) {
        if close { keepAlive = false }
        var headers = HTTPHeaders()
        if status == .methodNotAllowed { headers.add(name: "allow", value: "GET, HEAD, PUT, POST, DELETE") }
        answer(status, headers: headers, body: nil)
    }

    /// The error answer for `error` (mapped by `HTTPFailure`); one the
    /// front did not expect is logged with the request it failed.
    func fail(_ error: any Error) {
        let failure = HTTPFailure(error)
        if failure.isUnexpected {
            server.logger.error("request-failed", metadata: ["uri": "\(QueryParameters.redacted(uri))", "error": "\(error)"])
        }
        fail(failure.status, close: failure.closesConnection)
    }

    /// A success answer with a text body (a path, a listing).
    func answer(_ text: String) {
        var buffer = allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        answer(.ok, headers: headers, body: buffer)
    }

    func answer(_ status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(), body: ByteBuffer?) {
        var headers = headers
        headers.replaceOrAdd(name: "content-length", value: String(body?.readableBytes ?? 0))
        writeHead(status, headers: headers)
        if let body, body.readableBytes > 0 {
            countSent(body.readableBytes)
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil)
        }
        finish()
    }

    /// A presence answer for `HEAD`: the kind, the length when known, the
    /// validators of a block, no body.
    func answerHead(contentLength: Int?, kind: String, validators: ReadValidators? = nil) {
        var headers = HTTPHeaders()
        headers.add(name: kindHeader, value: kind)
        if let contentLength { headers.add(name: "content-length", value: String(contentLength)) }
        validators?.add(to: &headers)
        writeHead(.ok, headers: headers)
        finish()
    }

    /// Sends a whole block, or the `part` of it a `Range` asked for (206),
    /// and closes it. Without `validators` (a `take`: the answer is the
    /// end of the value) no cache may keep it.
    func send(_ block: StoredBlock, contentType: String, validators: ReadValidators? = nil, part: Range<Int>? = nil) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(8)
        let window = part ?? 0..<block.size
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(window.count))
        if let validators {
            validators.add(to: &headers)
        } else {
            headers.add(name: "cache-control", value: "no-store")
        }
        if let part {
            headers.add(name: "content-range", value: "bytes \(part.lowerBound)-\(part.upperBound - 1)/\(block.size)")
        }
        writeHead(part == nil ? .ok : .partialContent, headers: headers)
        switch block.bytes {
        case .memory(let bytes):
            countSent(window.count)
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(allocator.buffer(bytes: bytes[window])))), promise: nil)
            finish()
        case .file(let file):
            writeFileBody(file, window: window).assumeIsolated().whenComplete { [self] result in
                switch result {
                case .success: finish()
                case .failure: abort()
                }
            }
        }
    }

    /// 304: the client's copy (`If-None-Match`) is current.
    func notModified(_ validators: ReadValidators) {
        var headers = HTTPHeaders()
        validators.add(to: &headers)
        writeHead(.notModified, headers: headers)
        finish()
    }

    /// 416: the `Range` starts past the end of the `size` bytes there are.
    func rangeNotSatisfiable(size: Int) {
        var headers = HTTPHeaders()
        headers.add(name: "content-range", value: "bytes */\(size)")
        answer(.rangeNotSatisfiable, headers: headers, body: nil)
    }

    // MARK: - Streams

    /// Starts a streamed answer (a burst, or a peer's answer being relayed).
    func beginStream(_ status: HTTPResponseStatus, headers: HTTPHeaders) {
        writeHead(status, headers: headers)
        flushSoon()
    }

    var hasStarted: Bool { headSent }

    func writeBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        countSent(buffer.readableBytes)
        let written = context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))))
        flushSoon()
        return written
    }

    /// Flushes once the event loop is done with what it is handling now: a
    /// relayed answer that came in one read (head, body and end) leaves in
    /// one write, not three (each its own TCP segment and wakeup).
    private func flushSoon() {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute { [self] in
            flushScheduled = false
            context.flush()
        }
    }

    /// Streams a block's bytes as (part of) the body and closes it.
    func writeBlockBody(_ block: StoredBlock) -> EventLoopFuture<Void> {
        switch block.bytes {
        case .memory(let bytes): writeBody(allocator.buffer(bytes: bytes))
        case .file(let file): writeFileBody(file, window: 0..<file.size)
        }
    }

    /// Streams `window` of a file's bytes as body and closes the file. Over
    /// plain HTTP the kernel copies them (`sendfile`); over TLS they are
    /// read in slices.
    private func writeFileBody(_ file: BlockFile, window: Range<Int>) -> EventLoopFuture<Void> {
        countSent(window.count)
        guard !window.isEmpty else {
            file.close()
            return eventLoop.makeSucceededVoidFuture()
        }
        if server.usesTLS {
            let done = eventLoop.makePromise(of: Void.self)
            writeSlices(of: file, window, done: done)
            done.futureResult.assumeIsolated().whenComplete { _ in file.close() }
            return done.futureResult
        }
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: file.descriptor)
        var last: EventLoopFuture<Void> = eventLoop.makeSucceededVoidFuture()
        var offset = window.lowerBound
        while offset < window.upperBound {
            let end = min(offset + Self.fileRegionSlice, window.upperBound)
            let region = FileRegion(fileHandle: handle, readerIndex: offset, endIndex: end)
            last = context.write(NIOAny(HTTPServerResponsePart.body(.fileRegion(region))))
            offset = end
        }
        context.flush()
        last.assumeIsolated().whenComplete { _ in try? handle.close() }
        return last
    }

    private func writeSlices(of file: BlockFile, _ window: Range<Int>, done: EventLoopPromise<Void>) {
        guard !window.isEmpty else {
            done.succeed(())
            return
        }
        let buffer: ByteBuffer
        do {
            buffer = try allocator.read(file, at: window.lowerBound, count: min(Self.streamSlice, window.count))
        } catch {
            done.fail(error)
            return
        }
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer)))).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success: writeSlices(of: file, window.dropFirst(buffer.readableBytes), done: done)
            case .failure(let error): done.fail(error)
            }
        }
    }

    func endStream() {
        finish()
    }

    /// Ends a response that cannot be completed (a peer or file failed after
    /// the head was sent): closing the connection is the only honest signal.
    func abort() {
        guard !isComplete else { return }
        isComplete = true
        record()
        context.close(promise: nil)
    }

    // MARK: - Plumbing

    private func writeHead(_ status: HTTPResponseStatus, headers: HTTPHeaders) {
        precondition(!headSent, "one response per request")
        self.status = status
        headSent = true
        var headers = headers
        headers.add(name: "x-content-type-options", value: "nosniff")
        if !keepAlive {
            headers.replaceOrAdd(name: "connection", value: "close")
        } else if version.minor == 0 {
            headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
    }

    private func finish() {
        guard !isComplete else { return }
        isComplete = true
        record()
        if keepAlive {
            // No promise: a future per answer is measurable on small GETs.
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
        } else {
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).assumeIsolated().whenComplete { [context] _ in
                context.close(promise: nil)
            }
        }
        onComplete(keepAlive)
    }

    private func countSent(_ bytes: Int) {
        if countsAsWork { server.metrics.bytesSent.increment(by: Int64(bytes)) }
    }

    private func record() {
        let elapsed = NIODeadline.now() - started
        if countsAsWork {
            server.metrics.recordRequest(method: method, code: status.code, duration: .nanoseconds(elapsed.nanoseconds))
        }
        if server.logger.logLevel <= .debug {
            server.logger.debug("request", metadata: [
                "method": "\(method.rawValue)", "uri": "\(QueryParameters.redacted(uri))", "status": "\(status.code)",
                "microseconds": "\(elapsed.nanoseconds / 1000)",
            ])
        }
    }
}

extension ByteBufferAllocator {
    /// Reads `count` bytes of `file` from `offset` into a new buffer; a file
    /// that ends sooner is an error (it changed under us).
    public func read(_ file: BlockFile, at offset: Int, count: Int) throws -> ByteBuffer {
        var buffer = self.buffer(capacity: count)
        let read = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { pointer in
            try file.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: pointer.prefix(count)))
        }
        guard read == count else { throw StoreError("pread", code: EIO) }
        return buffer
    }
}
