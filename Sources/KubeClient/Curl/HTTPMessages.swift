import CCurl

/// One HTTP request as libcurl will send it: the API client and the pod
/// metrics scraper both speak through this.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// Turned into an Authorization header on the transfer's own thread, so
    /// that reading a token file never blocks a Swift concurrency thread.
    public var credentials: Credentials
    /// Whole-transfer limit in seconds; nil for streams that stay open.
    public var timeout: Double?
    public var connectTimeout: Double
    public var tls: TLSSettings

    public init(
        method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
        credentials: Credentials = .none, timeout: Double? = 30, connectTimeout: Double = 5, tls: TLSSettings = TLSSettings()
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.credentials = credentials
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.tls = tls
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names in lower case; a repeated header keeps its last value.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// How to trust the server and prove who we are, for HTTPS.
public struct TLSSettings: Sendable, Equatable {
    public var certificateAuthority: PEMSource?
    public var clientCertificate: PEMSource?
    public var clientKey: PEMSource?
    /// kubeconfig's `insecure-skip-tls-verify`: no server certificate check at all.
    public var insecureSkipVerify: Bool

    public init(
        certificateAuthority: PEMSource? = nil, clientCertificate: PEMSource? = nil, clientKey: PEMSource? = nil,
        insecureSkipVerify: Bool = false
    ) {
        self.certificateAuthority = certificateAuthority
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.insecureSkipVerify = insecureSkipVerify
    }
}

/// PEM text in a file or in memory (kubeconfig's `*-data` fields, base64-decoded).
public enum PEMSource: Sendable, Equatable {
    case file(String)
    case data([UInt8])
}

/// The request never got an HTTP answer: refused, reset, timed out, TLS failed.
public struct TransportError: Error, CustomStringConvertible {
    public var code: Int
    public var message: String
    /// The caller gave up (task cancelled); not worth a retry.
    public var cancelled: Bool

    public var description: String { "\(message) (curl code \(code))" }
}

extension TransportError {
    /// No answer, but one may come next time: the name did not resolve, the
    /// connection failed, was reset or timed out. TLS verification failures
    /// and bad options are not transient.
    public var isTransient: Bool {
        !cancelled && Self.transientCodes.contains(code)
    }

    /// The transfer ran past its time limit.
    public var isTimeout: Bool {
        code == Int(CURLE_OPERATION_TIMEDOUT.rawValue)
    }

    private static let transientCodes: Set<Int> = Set(
        [
            CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_PARTIAL_FILE, CURLE_OPERATION_TIMEDOUT,
            CURLE_SSL_CONNECT_ERROR, CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR,
        ].map { Int($0.rawValue) })
}
