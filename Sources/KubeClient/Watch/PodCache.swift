/// The selected pods by UID, as a list and the watch events after it
/// describe them. Keyed by UID, so an event seen twice (after a reconnect)
/// replaces rather than duplicates, and a new pod reusing a name is a
/// different pod.
public struct PodCache: Sendable {
    public private(set) var pods: [String: Pod] = [:]
    /// Where the next watch resumes.
    public private(set) var resourceVersion: String?

    public init() {}

    /// A fresh list replaces everything: pods deleted while no watch was
    /// running disappear, and nothing is counted twice.
    public mutating func replace(with list: PodList) {
        pods = Dictionary(list.items.compactMap { pod in pod.metadata.uid.map { ($0, pod) } }, uniquingKeysWith: { $1 })
        resourceVersion = list.metadata.resourceVersion
    }

    public enum Outcome: Equatable, Sendable {
        case applied
        /// 410 Gone: the resourceVersion is too old; list again.
        case expired
        /// Any other ERROR event: resume the watch after a pause.
        case failed(Status)
    }

    public mutating func apply(_ event: WatchEvent<Pod>) -> Outcome {
        switch event {
        case .added(let pod), .modified(let pod):
            if let uid = pod.metadata.uid { pods[uid] = pod }
            advance(to: pod.metadata.resourceVersion)
        case .deleted(let pod):
            if let uid = pod.metadata.uid { pods[uid] = nil }
            advance(to: pod.metadata.resourceVersion)
        case .bookmark(let version):
            advance(to: version)
        case .error(let status):
            return status.code == 410 ? .expired : .failed(status)
        }
        return .applied
    }

    private mutating func advance(to version: String?) {
        if let version, !version.isEmpty { resourceVersion = version }
    }
}
