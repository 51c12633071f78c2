import Foundation

extension ClusterConnection {
    /// Reads a kubeconfig file and resolves its current context.
    public static func kubeconfig(path: String) throws -> ClusterConnection {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConnectionError("cannot read kubeconfig \(path): \(error.localizedDescription)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        do {
            return try kubeconfig(text: text, directory: directory.isEmpty ? "." : directory)
        } catch let error as YAMLError {
            throw ConnectionError("kubeconfig \(path): \(error)")
        }
    }

    /// Resolves the current context of a kubeconfig: its cluster's server and
    /// CA (file or inline data, or no verification), and its user's token,
    /// token file or client certificate and key (files or inline data).
    /// Relative file names are relative to the kubeconfig's directory, as kubectl does.
    public static func kubeconfig(text: String, directory: String) throws -> ClusterConnection {
        guard let root = try YAMLLoader.load(text) else {
            throw YAMLError("the kubeconfig is empty", at: YAMLMark(line: 1, column: 1))
        }
        let contextName = try required(root, "current-context").string()
        let context = try named(contextName, in: root, list: "contexts", field: "context")
        let clusterName = try required(context, "cluster").string()
        let cluster = try named(clusterName, in: root, list: "clusters", field: "cluster")
        let userName = try context["user"]?.string()
        let user = try userName.map { try named($0, in: root, list: "users", field: "user") }

        var tls = TLSSettings()
        tls.insecureSkipVerify = try cluster["insecure-skip-tls-verify"]?.bool() ?? false
        tls.certificateAuthority = try pem(cluster, data: "certificate-authority-data", file: "certificate-authority", directory)

        var credentials = Credentials.none
        if let user {
            tls.clientCertificate = try pem(user, data: "client-certificate-data", file: "client-certificate", directory)
            tls.clientKey = try pem(user, data: "client-key-data", file: "client-key", directory)
            if let token = try user["token"]?.string(), !token.isEmpty {
                credentials = .bearerToken(token)
            } else if let file = try user["tokenFile"]?.string() {
                credentials = .bearerTokenFile(resolve(file, directory))
            } else if tls.clientCertificate != nil {
                guard tls.clientKey != nil else {
                    throw YAMLError("user \"\(userName ?? "")\" has a client certificate but no client key", at: user.mark)
                }
                credentials = .clientCertificate
            }
        }
        return ClusterConnection(server: try required(cluster, "server").string(), tls: tls, credentials: credentials)
    }

    private static func required(_ node: YAMLNode, _ key: String) throws(YAMLError) -> YAMLNode {
        guard let value = node[key], !value.isNull else { throw YAMLError("missing \"\(key)\"", at: node.mark) }
        return value
    }

    /// The `field` mapping of the entry called `name` in the list `list`
    /// (e.g. `contexts: [{name: dev, context: {...}}]`).
    private static func named(_ name: String, in root: YAMLNode, list: String, field: String) throws(YAMLError) -> YAMLNode {
        for entry in try root[list]?.sequence() ?? [] where try entry["name"]?.string() == name {
            return try required(entry, field)
        }
        throw YAMLError("no entry named \"\(name)\" in \(list)", at: root[list]?.mark ?? root.mark)
    }

    private static func pem(_ node: YAMLNode, data: String, file: String, _ directory: String) throws(YAMLError) -> PEMSource? {
        if let encoded = node[data], !encoded.isNull {
            guard let bytes = Data(base64Encoded: try encoded.string(), options: .ignoreUnknownCharacters) else {
                throw YAMLError("\(data) is not valid base64", at: encoded.mark)
            }
            return .data(Array(bytes))
        }
        if let path = node[file], !path.isNull {
            return .file(resolve(try path.string(), directory))
        }
        return nil
    }

    private static func resolve(_ path: String, _ directory: String) -> String {
        path.hasPrefix("/") ? path : directory + "/" + path
    }
}
