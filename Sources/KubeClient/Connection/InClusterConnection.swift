import Foundation

extension ClusterConnection {
    /// The service account mounted into every pod.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The API server as seen from inside a pod: `KUBERNETES_SERVICE_HOST`
    /// and `_PORT`, the mounted CA, and the mounted token (re-read per request).
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        directory: String = serviceAccountDirectory
    ) throws -> ClusterConnection {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw ConnectionError(
                "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset (use --kubeconfig)")
        }
        let token = directory + "/token"
        guard FileManager.default.isReadableFile(atPath: token) else {
            throw ConnectionError("no service-account token at \(token)")
        }
        // An IPv6 address needs brackets in a URL.
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return ClusterConnection(
            server: "https://\(hostPart):\(port)",
            tls: TLSSettings(certificateAuthority: .file(directory + "/ca.crt")),
            credentials: .bearerTokenFile(token))
    }
}
