/// The Deployment the operator scales, its `/scale` subresource, and the
/// autoscalers that could compete for it.
extension KubernetesClient {
    static func deploymentPath(_ namespace: String, _ name: String) -> String {
        "/apis/apps/v1/namespaces/\(segment(namespace))/deployments/\(segment(name))"
    }

    public func getDeployment(namespace: String, name: String) async throws -> Deployment {
        try decode(Deployment.self, from: try await send("GET", Self.deploymentPath(namespace, name)))
    }

    public func getScale(namespace: String, deployment: String) async throws -> Scale {
        try decode(Scale.self, from: try await send("GET", Self.deploymentPath(namespace, deployment) + "/scale"))
    }

    /// Sets `spec.replicas` with a JSON merge patch of the scale subresource.
    /// With `resourceVersion` (of the Scale this change was decided on) the
    /// API server applies it only if nobody changed the scale since (else
    /// 409), so a stale decision is never applied.
    @discardableResult
    public func setReplicas(namespace: String, deployment: String, replicas: Int, resourceVersion: String? = nil) async throws -> Scale {
        let patch = ReplicasPatch(metadata: resourceVersion.map { .init(resourceVersion: $0) }, spec: .init(replicas: replicas))
        let response = try await send(
            "PATCH", Self.deploymentPath(namespace, deployment) + "/scale", body: try encode(patch),
            contentType: "application/merge-patch+json")
        return try decode(Scale.self, from: response)
    }

    public func listHorizontalPodAutoscalers(namespace: String) async throws -> [HorizontalPodAutoscaler] {
        let path = "/apis/autoscaling/v2/namespaces/\(Self.segment(namespace))/horizontalpodautoscalers"
        return try decode(HorizontalPodAutoscalerList.self, from: try await send("GET", path)).items
    }
}

/// The merge patch of `setReplicas`.
private struct ReplicasPatch: Encodable {
    struct Metadata: Encodable {
        let resourceVersion: String
    }
    struct Spec: Encodable {
        let replicas: Int
    }
    let metadata: Metadata?
    let spec: Spec
}
