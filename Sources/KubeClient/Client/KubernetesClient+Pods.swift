/// Pods: list, watch, and annotate.
extension KubernetesClient {
    static func podsPath(_ namespace: String) -> String {
        "/api/v1/namespaces/\(segment(namespace))/pods"
    }

    public func listPods(namespace: String, labelSelector: String) async throws -> PodList {
        let response = try await send("GET", Self.podsPath(namespace), query: [("labelSelector", labelSelector)])
        return try decode(PodList.self, from: response)
    }

    /// Watches pods from `resourceVersion`, with bookmarks. The server ends the
    /// stream after `timeoutSeconds`; the transfer is abandoned after
    /// `giveUpAfter` seconds (a `TransportError` that `isTimeout`), so a
    /// connection that died silently is noticed too. No retries here: the
    /// informer decides how to resume. A 410 answer ends the stream with
    /// `KubeAPIError.status(410, …)`.
    public func watchPods(
        namespace: String, labelSelector: String, resourceVersion: String, timeoutSeconds: Int, giveUpAfter: Double
    ) -> AsyncThrowingStream<WatchEvent<Pod>, any Error> {
        let request = makeRequest(
            "GET", Self.podsPath(namespace),
            query: [
                ("labelSelector", labelSelector), ("watch", "true"), ("resourceVersion", resourceVersion),
                ("allowWatchBookmarks", "true"), ("timeoutSeconds", String(timeoutSeconds)),
            ],
            timeout: giveUpAfter)
        let chunks = executor.stream(request)
        return AsyncThrowingStream { continuation in
            let task = Task {
                var lines = LineSplitter()
                do {
                    for try await chunk in chunks {
                        for line in lines.append(chunk) {
                            continuation.yield(try WatchEvent<Pod>.decode(line: line))
                        }
                    }
                    continuation.finish()
                } catch let unexpected as UnexpectedStatus {
                    continuation.finish(throwing: Self.apiError(unexpected.response))
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Sets annotations on a pod with a JSON merge patch (other annotations stay).
    public func annotatePod(namespace: String, name: String, annotations: [String: String]) async throws {
        let patch = ["metadata": ["annotations": annotations]]
        _ = try await send(
            "PATCH", Self.podsPath(namespace) + "/" + Self.segment(name), body: try encode(patch),
            contentType: "application/merge-patch+json")
    }
}
