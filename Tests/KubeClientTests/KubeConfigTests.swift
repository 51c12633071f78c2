import Foundation
@testable import KubeClient
import Testing

@Suite struct KubeConfigTests {
    let ca = Array("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8)

    func kubeconfig(cluster: String, user: String, current: String = "dev") -> String {
        """
        apiVersion: v1
        kind: Config
        current-context: \(current)
        clusters:
        - name: other
          cluster:
            server: https://other.example:6443
        - name: dev-cluster
          cluster:
        \(cluster)
        contexts:
        - name: other
          context: {cluster: other, user: other}
        - name: dev
          context:
            cluster: dev-cluster
            user: dev-user
            namespace: tig-system
        users:
        - name: other
          user: {token: nope}
        - name: dev-user
          user:
        \(user)
        """
    }

    @Test func tokenAndInlineCAOfTheCurrentContext() throws {
        let text = kubeconfig(
            cluster: "    server: https://127.0.0.1:6443/\n    certificate-authority-data: \(Data(ca).base64EncodedString())",
            user: "    token: abc.def")
        let connection = try ClusterConnection.kubeconfig(text: text, directory: "/etc/kube")
        #expect(connection.server == "https://127.0.0.1:6443")
        #expect(connection.tls.certificateAuthority == .data(ca))
        #expect(connection.credentials == .bearerToken("abc.def"))
        #expect(connection.tls.insecureSkipVerify == false)
    }

    @Test func relativeFilesResolveAgainstTheKubeconfigDirectory() throws {
        let text = kubeconfig(
            cluster: "    server: https://k:443\n    certificate-authority: certs/ca.crt",
            user: "    client-certificate: /abs/client.crt\n    client-key: client.key")
        let connection = try ClusterConnection.kubeconfig(text: text, directory: "/home/me/.kube")
        #expect(connection.tls.certificateAuthority == .file("/home/me/.kube/certs/ca.crt"))
        #expect(connection.tls.clientCertificate == .file("/abs/client.crt"))
        #expect(connection.tls.clientKey == .file("/home/me/.kube/client.key"))
        #expect(connection.credentials == .clientCertificate)
    }

    @Test func inlineClientCertificateAndKey() throws {
        let text = kubeconfig(
            cluster: "    server: https://k:443",
            user: "    client-certificate-data: \(Data("CERT".utf8).base64EncodedString())\n    client-key-data: \(Data("KEY".utf8).base64EncodedString())")
        let connection = try ClusterConnection.kubeconfig(text: text, directory: ".")
        #expect(connection.tls.clientCertificate == .data(Array("CERT".utf8)))
        #expect(connection.tls.clientKey == .data(Array("KEY".utf8)))
    }

    @Test func tokenFileAndInsecureSkipVerify() throws {
        let text = kubeconfig(
            cluster: "    server: https://k:443\n    insecure-skip-tls-verify: true", user: "    tokenFile: token")
        let connection = try ClusterConnection.kubeconfig(text: text, directory: "/run")
        #expect(connection.credentials == .bearerTokenFile("/run/token"))
        #expect(connection.tls.insecureSkipVerify)
    }

    @Test func mistakesAreLocated() throws {
        let cases: [(String, String)] = [
            (kubeconfig(cluster: "    server: https://k", user: "    token: t", current: "missing"),
             "no entry named \"missing\" in contexts"),
            (kubeconfig(cluster: "    certificate-authority: ca", user: "    token: t"), "missing \"server\""),
            (kubeconfig(cluster: "    server: https://k\n    certificate-authority-data: '***'", user: "    token: t"),
             "certificate-authority-data is not valid base64"),
            (kubeconfig(cluster: "    server: https://k\n    insecure-skip-tls-verify: maybe", user: "    token: t"),
             "expected true or false, got \"maybe\""),
            (kubeconfig(cluster: "    server: https://k", user: "    client-certificate: c.crt"),
             "has a client certificate but no client key"),
            ("clusters: [", "did not find expected node content"),
        ]
        for (text, expected) in cases {
            do {
                _ = try ClusterConnection.kubeconfig(text: text, directory: ".")
                Issue.record("accepted a kubeconfig that should fail with \(expected)")
            } catch let error as YAMLError {
                #expect(error.message.contains(expected), "\(error)")
                #expect(error.mark.line >= 1)
            }
        }
    }

    @Test func inClusterUsesTheServiceAccountAndReReadsTheToken() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sa-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "first\n".write(toFile: directory + "/token", atomically: true, encoding: .utf8)

        let connection = try ClusterConnection.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"], directory: directory)
        #expect(connection.server == "https://[fd00::1]:443")
        #expect(connection.tls.certificateAuthority == .file(directory + "/ca.crt"))
        #expect(try connection.credentials.authorization() == "Bearer first")
        // The kubelet rotates the token by replacing the file.
        try "second\n".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        #expect(try connection.credentials.authorization() == "Bearer second")
    }

    @Test func outsideAClusterInClusterRefuses() {
        #expect(throws: ConnectionError.self) { try ClusterConnection.inCluster(environment: [:]) }
    }
}
