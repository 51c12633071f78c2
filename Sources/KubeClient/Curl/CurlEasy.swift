import CCurl
import CCurlShim

/// One libcurl easy handle. Owns the C memory a transfer needs (header list,
/// error buffer) and frees it with the handle. A handle keeps its connection
/// cache across `reset()`, so the next transfer on it reuses the open
/// keep-alive connection (and TLS session) to the same server.
///
/// Unchecked Sendable: libcurl lets a handle move between threads but never
/// be used by two at once; `CurlHandlePool` hands each to one transfer at a time.
final class CurlEasy: @unchecked Sendable {
    /// curl_global_init is not thread-safe and must run before any other
    /// curl call; a static `let` is initialised exactly once, under a lock.
    private static let globalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    let handle: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    init() throws(TransportError) {
        guard Self.globalInit == CURLE_OK, let handle = curl_easy_init() else {
            errorBuffer.deallocate()
            throw TransportError(code: Int(CURLE_FAILED_INIT.rawValue), message: "libcurl could not start", cancelled: false)
        }
        self.handle = handle
        errorBuffer.initialize(to: 0)
        _ = tig_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
    }

    /// Forgets every option of the last transfer (its URL, headers, body,
    /// callbacks) but keeps the open connections, DNS and TLS session caches.
    func reset() {
        curl_easy_reset(handle)
        curl_slist_free_all(headerList)
        headerList = nil
        errorBuffer[0] = 0
        _ = tig_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    func set(_ option: CURLoption, _ value: Int) throws(TransportError) {
        try check(tig_curl_setopt_long(handle, option, value), option)
    }

    func set(_ option: CURLoption, _ value: Bool) throws(TransportError) {
        try set(option, value ? 1 : 0)
    }

    func set(_ option: CURLoption, _ value: String) throws(TransportError) {
        try check(tig_curl_setopt_string(handle, option, value), option)
    }

    func set(_ option: CURLoption, blob: [UInt8]) throws(TransportError) {
        let code = blob.withUnsafeBytes { tig_curl_setopt_blob(handle, option, $0.baseAddress, $0.count) }
        try check(code, option)
    }

    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws(TransportError) {
        try check(tig_curl_setopt_pointer(handle, option, pointer), option)
    }

    func set(_ option: CURLoption, callback: tig_curl_data_callback) throws(TransportError) {
        try check(tig_curl_setopt_data_callback(handle, option, callback), option)
    }

    func set(progress: tig_curl_progress_callback) throws(TransportError) {
        try check(tig_curl_setopt_progress_callback(handle, progress), CURLOPT_XFERINFOFUNCTION)
    }

    func set(headers: [(name: String, value: String)]) throws(TransportError) {
        for header in headers {
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        try set(CURLOPT_HTTPHEADER, pointer: UnsafeMutableRawPointer(headerList))
    }

    func responseCode() -> Int {
        var code = 0
        _ = tig_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    /// Runs the transfer; blocks the calling thread until it ends.
    func perform() -> (code: CURLcode, detail: String) {
        errorBuffer[0] = 0
        let code = curl_easy_perform(handle)
        let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        return (code, detail)
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws(TransportError) {
        guard code == CURLE_OK else {
            throw TransportError(
                code: Int(code.rawValue),
                message: "curl option \(option.rawValue): \(String(cString: curl_easy_strerror(code)))",
                cancelled: false)
        }
    }
}
