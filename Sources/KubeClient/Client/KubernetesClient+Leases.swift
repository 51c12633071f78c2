/// Leases for leader election. Updates carry the resourceVersion they were
/// based on, so a concurrent change makes the update fail with 409 Conflict.
extension KubernetesClient {
    static func leasesPath(_ namespace: String) -> String {
        "/apis/coordination.k8s.io/v1/namespaces/\(segment(namespace))/leases"
    }

    /// The Lease, or nil if it does not exist.
    public func getLease(namespace: String, name: String) async throws -> Lease? {
        do {
            return try decode(Lease.self, from: try await send("GET", Self.leasesPath(namespace) + "/" + Self.segment(name)))
        } catch let error as KubeAPIError where error.isNotFound {
            return nil
        }
    }

    /// Creates the Lease; 409 if someone else created it first.
    public func createLease(_ lease: Lease) async throws -> Lease {
        let namespace = lease.metadata.namespace ?? ""
        return try decode(Lease.self, from: try await send("POST", Self.leasesPath(namespace), body: try encode(lease)))
    }

    /// Replaces the Lease; 409 if it changed since `lease.metadata.resourceVersion`.
    public func updateLease(_ lease: Lease) async throws -> Lease {
        let path = Self.leasesPath(lease.metadata.namespace ?? "") + "/" + Self.segment(lease.metadata.name ?? "")
        return try decode(Lease.self, from: try await send("PUT", path, body: try encode(lease)))
    }
}
