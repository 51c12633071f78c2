extension KubernetesClient {
    public func createEvent(_ event: Event) async throws {
        let path = "/api/v1/namespaces/\(Self.segment(event.involvedObject.namespace))/events"
        _ = try await send("POST", path, body: try encode(event))
    }
}
