import AsyncHTTPClient
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import TigAddress

/// One tig server as the client uses it. Every content block read is checked
/// against its address, every write against the path the server answers.
public struct BlockServer: Sendable {
    /// `http(s)://host[:port]`, without a trailing slash.
    public let url: String
    private let apikey: String?
    private let http: HTTPClient

    /// The largest block read into memory: the largest chunk (8 × 16 MiB),
    /// and far above any manifest or file block of a sane tree.
    static let largestBlockInMemory = 128 << 20

    public init(url: String, apikey: String?, http: HTTPClient) throws {
        var trimmed = Substring(url)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        let rest = trimmed.hasPrefix("http://") ? trimmed.dropFirst(7) : trimmed.hasPrefix("https://") ? trimmed.dropFirst(8) : nil
        guard let rest, !rest.isEmpty, !rest.contains(where: { $0 == "/" || $0 == "?" || $0 == "#" || $0.isWhitespace }) else {
            throw TigClientError.badServerURL(url)
        }
        self.url = String(trimmed)
        self.apikey = apikey
        self.http = http
    }

    /// Stores `block` with `PUT /` (the server deduplicates equal bytes).
    public func put(_ block: Block) async throws {
        let response = try await send(.PUT, "/" + writeQuery, body: .bytes(block.bytes))
        try await expectAnswer(block.address, from: response)
    }

    /// Stores a whole file as one block. The file is hashed first, so the
    /// server's answer can be checked, then streamed from disk; it must be
    /// seekable (`OpenFile.spooling` makes standard input so).
    public func put(file: OpenFile, progress: ProgressBar?) async throws -> BlockAddress {
        let hasher = SHA256Hasher()
        var size: Int64 = 0
        while let piece = try file.read(upTo: 1 << 20) {
            piece.withUnsafeReadableBytes { hasher.update($0) }
            size += Int64(piece.readableBytes)
        }
        let address = hasher.finish()
        try file.rewind()
        progress?.setTotal(size)
        let body = FileBody(file: file, progress: progress)
        let response = try await send(.PUT, "/" + writeQuery, body: .stream(body, length: .known(size)), repeatable: false)
        try await expectAnswer(address, from: response)
        return address
    }

    /// The block's bytes (at most `largestBlockInMemory`), checked against
    /// its address. Resets its retention timer, like every GET.
    public func get(_ address: BlockAddress) async throws -> ByteBuffer {
        let response = try await send(.GET, address.path)
        try await expectSuccess(response, method: "GET", address: address)
        let limit = Self.largestBlockInMemory
        if let length = Self.contentLength(response), length > limit { throw TigClientError.tooLarge(address, server: url) }
        let bytes: ByteBuffer
        do {
            bytes = try await transport { try await response.body.collect(upTo: limit) }
        } catch is NIOTooManyBytesError {
            throw TigClientError.tooLarge(address, server: url)
        }
        guard Block.address(of: bytes) == address else { throw TigClientError.corrupt(address, server: url) }
        return bytes
    }

    /// Streams the block into `output`. With `verifying`, throws `corrupt`
    /// (after the last byte) when the bytes do not hash to the address; the
    /// caller then discards the output. Without it (key slots) anything goes.
    public func download(_ address: BlockAddress, verifying: Bool, into output: StagedOutput, progress: ProgressBar?) async throws {
        let response = try await send(.GET, address.path)
        try await expectSuccess(response, method: "GET", address: address)
        progress?.setTotal(Self.contentLength(response).map(Int64.init))
        let hasher = SHA256Hasher()
        try await transport {
            for try await piece in response.body {
                piece.withUnsafeReadableBytes { hasher.update($0) }
                try output.write(piece)
                progress?.advance(by: piece.readableBytes)
            }
        }
        if verifying, hasher.finish() != address { throw TigClientError.corrupt(address, server: url) }
    }

    /// Streams `range` of the block into `output`. A part cannot be checked
    /// against the address (only the whole block can), so the answer is
    /// checked for what it is: a 206 whose `Content-Range` is the range
    /// asked for and whose body has that length. A server that answers the
    /// whole block instead (200) has it verified (with `verifying`) and cut.
    public func download(_ address: BlockAddress, range: ByteRange, verifying: Bool, into output: StagedOutput) async throws {
        let response = try await send(.GET, address.path, headers: ["range": range.header])
        switch response.status {
        case .partialContent:
            let answered = response.headers.first(name: "content-range") ?? ""
            guard let total = answered.split(separator: "/").last.flatMap({ Int64($0) }),
                  let wanted = range.resolved(size: total), answered == "bytes \(wanted.lowerBound)-\(wanted.upperBound - 1)/\(total)"
            else {
                await discardBody(response)
                throw TigClientError.inconsistent("asked \(url)\(address.path) for \(range.header), got Content-Range \(answered)")
            }
            var received: Int64 = 0
            try await transport {
                for try await piece in response.body {
                    received += Int64(piece.readableBytes)
                    guard received <= wanted.count else { break }
                    try output.write(piece)
                }
            }
            guard received == wanted.count else {
                throw TigClientError.inconsistent("\(url)\(address.path) sent \(received) bytes for \(answered)")
            }
        case .rangeNotSatisfiable:
            await discardBody(response)
            throw TigClientError.invalidArgument("range \(range.header) starts past the end of \(address.path)")
        default:
            try await expectSuccess(response, method: "GET", address: address)
            await discardBody(response)
            // The whole block instead of the part: fetched again, verified, cut.
            var whole = verifying ? try await get(address) : try await touchedBytes(address)
            guard let wanted = range.resolved(size: Int64(whole.readableBytes)) else {
                throw TigClientError.invalidArgument("range \(range.header) starts past the end of \(address.path)")
            }
            whole.moveReaderIndex(forwardBy: Int(wanted.lowerBound))
            try output.write(whole.readSlice(length: wanted.count) ?? ByteBuffer())
        }
    }

    /// A key slot's value (not verifiable), at most `largestBlockInMemory`.
    private func touchedBytes(_ address: BlockAddress) async throws -> ByteBuffer {
        guard case .present(let bytes?) = try await touch(address, readingUpTo: Self.largestBlockInMemory) else {
            throw TigClientError.notFound(address, server: url)
        }
        return bytes
    }

    /// The block's length when the server holds it, nil when it does not.
    /// A HEAD does not reset the block's retention timer.
    public func length(of address: BlockAddress) async throws -> Int? {
        let response = try await send(.HEAD, address.path)
        if response.status == .notFound {
            await discardBody(response)
            return nil
        }
        try await expectSuccess(response, method: "HEAD", address: address)
        await discardBody(response)
        return Self.contentLength(response)
    }

    /// What a timer-resetting read found.
    public enum Presence: Sendable {
        case absent
        /// The bytes when the block is at most the asked size (unverified:
        /// a key slot is not its hash), nil otherwise.
        case present(ByteBuffer?)
    }

    /// Resets the block's retention timer with the cheapest request that
    /// does: a GET (HEAD does not reset it). Bytes beyond `limit` are not
    /// fetched: the response is abandoned after its head, which closes that
    /// one connection; the server reset the timer before answering.
    public func touch(_ address: BlockAddress, readingUpTo limit: Int) async throws -> Presence {
        let response = try await send(.GET, address.path)
        if response.status == .notFound {
            await discardBody(response)
            return .absent
        }
        try await expectSuccess(response, method: "GET", address: address)
        guard let length = Self.contentLength(response), length <= limit else { return .present(nil) }
        return .present(try await transport { try await response.body.collect(upTo: limit) })
    }

    private var writeQuery: String {
        guard let apikey else { return "" }
        return "?apikey=" + PercentEncoding.encode(apikey.utf8, keeping: PercentEncoding.isUnreserved)
    }

    /// Pauses before the second, third and fourth attempt of a request
    /// that can be repeated (every read, and a write of bytes in memory: a
    /// content-addressed write is idempotent), when the server could not be
    /// reached or answered 503: a pod the operator rotates, or one draining,
    /// is replaced within seconds behind its Service.
    static let retryPauses: [Duration] = [.milliseconds(250), .seconds(1), .seconds(3)]

    private func send(
        _ method: HTTPMethod, _ target: String, body: HTTPClientRequest.Body? = nil, headers: HTTPHeaders = [:],
        repeatable: Bool = true
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url + target)
        request.method = method
        request.body = body
        request.headers.add(contentsOf: headers)
        var pauses = repeatable ? Self.retryPauses[...] : []
        while true {
            do {
                // The deadline only covers the wait for the response head; stalls
                // are caught by the read and write timeouts of the session.
                let response = try await transport { try await http.execute(request, deadline: .distantFuture) }
                guard response.status == .serviceUnavailable, let pause = pauses.popFirst() else { return response }
                await discardBody(response)
                try await Task.sleep(for: pause)
            } catch TigClientError.unreachable where !pauses.isEmpty {
                try await Task.sleep(for: pauses.removeFirst())
            }
        }
    }

    /// Runs `operation`, turning transport failures into `unreachable`.
    private func transport<Result>(_ operation: () async throws -> Result) async throws -> Result {
        do {
            return try await operation()
        } catch let error as TigClientError {
            throw error
        } catch let error as NIOTooManyBytesError {
            throw error
        } catch let error as CancellationError {
            throw error
        } catch {
            throw TigClientError.unreachable(server: url, reason: Self.reason(error))
        }
    }

    private func expectSuccess(_ response: HTTPClientResponse, method: String, address: BlockAddress?) async throws {
        guard response.status != .ok else { return }
        await discardBody(response)
        switch response.status {
        case .notFound:
            if let address { throw TigClientError.notFound(address, server: url) }
            throw TigClientError.unexpectedStatus(response.status.code, method: method, server: url)
        case .unauthorized: throw TigClientError.unauthorized(server: url)
        case .payloadTooLarge: throw TigClientError.tooLarge(nil, server: url)
        default: throw TigClientError.unexpectedStatus(response.status.code, method: method, server: url)
        }
    }

    /// A write answers the stored block's path; anything else means the
    /// server did not store what was sent.
    private func expectAnswer(_ address: BlockAddress, from response: HTTPClientResponse) async throws {
        try await expectSuccess(response, method: "PUT", address: nil)
        let answer = try await transport { try await response.body.collect(upTo: 1024) }
        let path = String(buffer: answer)
        guard path == address.path else { throw TigClientError.wrongAnswer(expected: address, answered: path, server: url) }
    }

    /// Reads the (empty) body of an error answer so the connection can be
    /// reused; a failure here changes nothing about the answer.
    private func discardBody(_ response: HTTPClientResponse) async {
        _ = try? await response.body.collect(upTo: 64 << 10)
    }

    /// A transport failure in a few words: "Connection refused", not NIO's
    /// nested description of every attempt.
    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as IOError:
            return String(cString: strerror(error.errnoCode))
        case let error as NIOConnectionError:
            return error.connectionErrors.first.map { reason($0.error) } ?? error.dnsAAAAError.map(reason) ?? "cannot connect"
        default:
            return String(describing: error)
        }
    }

    private static func contentLength(_ response: HTTPClientResponse) -> Int? {
        response.headers.first(name: "content-length").flatMap { Int($0) }
    }
}
