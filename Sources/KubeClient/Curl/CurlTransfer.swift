import CCurl
import CCurlShim

/// Performs one HTTP request with libcurl on the calling thread (which must
/// not be one of Swift's cooperative threads: this blocks).
///
/// The body of a 2xx answer goes to `streamSink` as it arrives when one is
/// given (watch streams); any other body is collected into the response, so
/// an error answer can be decoded as a Kubernetes Status.
final class CurlTransfer {
    typealias StreamSink = (UnsafeRawBufferPointer) -> Void

    private let easy: CurlEasy
    private let streamSink: StreamSink?
    private let isCancelled: @Sendable () -> Bool
    private var status = 0
    private var headers: [String: String] = [:]
    private var body: [UInt8] = []

    private init(easy: CurlEasy, streamSink: StreamSink?, isCancelled: @escaping @Sendable () -> Bool) {
        self.easy = easy
        self.streamSink = streamSink
        self.isCancelled = isCancelled
    }

    /// Performs `request` on `easy`, which must be freshly made or reset.
    static func perform(
        _ request: HTTPRequest, on easy: CurlEasy, isCancelled: @escaping @Sendable () -> Bool,
        streamSink: StreamSink? = nil
    ) throws(TransportError) -> HTTPResponse {
        let transfer = CurlTransfer(easy: easy, streamSink: streamSink, isCancelled: isCancelled)
        return try transfer.run(request)
    }

    private func run(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse {
        try configure(request)
        let context = Unmanaged.passUnretained(self).toOpaque()
        try easy.set(CURLOPT_WRITEDATA, pointer: context)
        try easy.set(CURLOPT_HEADERDATA, pointer: context)
        try easy.set(CURLOPT_XFERINFODATA, pointer: context)
        try easy.set(CURLOPT_WRITEFUNCTION, callback: { data, size, count, context in
            guard let context else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
            transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        })
        try easy.set(CURLOPT_HEADERFUNCTION, callback: { data, size, count, context in
            guard let context else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
            transfer.receiveHeader(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        })
        // libcurl calls this about once a second even on an idle stream:
        // that bounds how long a cancelled watch keeps its thread.
        try easy.set(CURLOPT_NOPROGRESS, false)
        try easy.set(progress: { context, _, _, _, _ in
            guard let context else { return 1 }
            return Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue().isCancelled() ? 1 : 0
        })

        let (code, detail) = easy.perform()
        guard code == CURLE_OK else {
            let cancelled = code == CURLE_ABORTED_BY_CALLBACK
            throw TransportError(code: Int(code.rawValue), message: cancelled ? "cancelled" : detail, cancelled: cancelled)
        }
        return HTTPResponse(status: easy.responseCode(), headers: headers, body: body)
    }

    private func configure(_ request: HTTPRequest) throws(TransportError) {
        try easy.set(CURLOPT_URL, request.url)
        try easy.set(CURLOPT_PROTOCOLS_STR, "http,https")
        // Signals (SIGALRM for DNS timeouts) are process-wide: unusable with many threads.
        try easy.set(CURLOPT_NOSIGNAL, true)
        try easy.set(CURLOPT_TCP_KEEPALIVE, true)
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, Int(request.connectTimeout * 1000))
        if let timeout = request.timeout {
            try easy.set(CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        }
        if let body = request.body {
            try easy.set(CURLOPT_POSTFIELDSIZE, body.count)
            let code = body.withUnsafeBytes {
                tig_curl_setopt_pointer(easy.handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress))
            }
            guard code == CURLE_OK else {
                throw TransportError(code: Int(code.rawValue), message: "request body rejected by libcurl", cancelled: false)
            }
        }
        if request.method != "GET" || request.body != nil {
            try easy.set(CURLOPT_CUSTOMREQUEST, request.method)
        }
        var headers = request.headers
        do {
            if let authorization = try request.credentials.authorization() {
                headers.append(("Authorization", authorization))
            }
        } catch {
            throw TransportError(code: Int(CURLE_LOGIN_DENIED.rawValue), message: "no credentials: \(error)", cancelled: false)
        }
        try easy.set(headers: headers)
        try configureTLS(request.tls)
    }

    private func configureTLS(_ tls: TLSSettings) throws(TransportError) {
        switch tls.certificateAuthority {
        case .file(let path): try easy.set(CURLOPT_CAINFO, path)
        case .data(let pem): try easy.set(CURLOPT_CAINFO_BLOB, blob: pem)
        case nil: break
        }
        switch tls.clientCertificate {
        case .file(let path): try easy.set(CURLOPT_SSLCERT, path)
        case .data(let pem): try easy.set(CURLOPT_SSLCERT_BLOB, blob: pem)
        case nil: break
        }
        switch tls.clientKey {
        case .file(let path): try easy.set(CURLOPT_SSLKEY, path)
        case .data(let pem): try easy.set(CURLOPT_SSLKEY_BLOB, blob: pem)
        case nil: break
        }
        if tls.insecureSkipVerify {
            try easy.set(CURLOPT_SSL_VERIFYPEER, false)
            try easy.set(CURLOPT_SSL_VERIFYHOST, 0)
        }
    }

    private func receiveBody(_ bytes: UnsafeRawBufferPointer) {
        if let streamSink, (200..<300).contains(status) {
            streamSink(bytes)
        } else {
            body.append(contentsOf: bytes)
        }
    }

    /// One header line per call, status line included. A new status line
    /// (after `100 Continue`) starts the headers over.
    private func receiveHeader(_ bytes: UnsafeRawBufferPointer) {
        // Cut CR LF as bytes: as a String, "\r\n" is one Character.
        var end = bytes.count
        while end > 0, bytes[end - 1] == UInt8(ascii: "\r") || bytes[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        let line = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<end]), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            let parts = line.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            headers = [:]
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            headers[name] = String(value)
        }
    }
}
