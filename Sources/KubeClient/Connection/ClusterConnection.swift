import Foundation

/// Where the API server is and how to talk to it: what `KubernetesClient`
/// needs, whether it came from the in-cluster service account or a kubeconfig.
public struct ClusterConnection: Sendable, Equatable {
    /// e.g. `https://10.0.0.1:443`, without a trailing slash.
    public var server: String
    public var tls: TLSSettings
    public var credentials: Credentials

    public init(server: String, tls: TLSSettings, credentials: Credentials) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.tls = tls
        self.credentials = credentials
    }
}

public enum Credentials: Sendable, Equatable {
    case none
    case bearerToken(String)
    /// A token read from this file before every request. The kubelet rotates
    /// projected service-account tokens by swapping the file; reading the
    /// small file each time always sends the current one.
    case bearerTokenFile(String)
    /// Client certificate and key: sent in the TLS handshake, set in `TLSSettings`.
    case clientCertificate

    /// The Authorization header value for the next request, if any. Reads
    /// the token file: call it on a thread that may block.
    func authorization() throws -> String? {
        switch self {
        case .none, .clientCertificate:
            return nil
        case .bearerToken(let token):
            return "Bearer \(token)"
        case .bearerTokenFile(let path):
            let token = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            return "Bearer \(token)"
        }
    }
}

public struct ConnectionError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
