import Foundation

public struct Pod: Codable, Sendable, Equatable {
    public var metadata: ObjectMeta
    public var status: PodStatus?

    public init(metadata: ObjectMeta, status: PodStatus? = nil) {
        self.metadata = metadata
        self.status = status
    }

    /// The Ready condition is True: the kubelet's readiness probe passes.
    public var isReady: Bool {
        status?.conditions?.contains { $0.type == "Ready" && $0.status == "True" } ?? false
    }

    /// Whether the pod has finished for good: phase Failed (an eviction, for
    /// one) or Succeeded. It still matches its selector until deleted.
    public var hasFinished: Bool {
        status?.phase == "Failed" || status?.phase == "Succeeded"
    }

    /// When the pod started: the kubelet's start, else its creation.
    public var startedAt: Date? {
        status?.startTime ?? metadata.creationTimestamp
    }

    /// When `container`'s current process started counting its work (its
    /// counters restart with it); the pod's start when it is not running.
    /// Other containers (a sidecar that restarted) change nothing.
    public func runningSince(container: String) -> Date? {
        status?.containerStatuses?.first { $0.name == container }?.state?.running?.startedAt ?? startedAt
    }
}

public struct PodStatus: Codable, Sendable, Equatable {
    public var phase: String?
    public var podIP: String?
    public var startTime: Date?
    public var conditions: [PodCondition]?
    public var containerStatuses: [ContainerStatus]?

    public init(
        phase: String? = nil, podIP: String? = nil, startTime: Date? = nil, conditions: [PodCondition]? = nil,
        containerStatuses: [ContainerStatus]? = nil
    ) {
        self.phase = phase
        self.podIP = podIP
        self.startTime = startTime
        self.conditions = conditions
        self.containerStatuses = containerStatuses
    }
}

public struct PodCondition: Codable, Sendable, Equatable {
    public var type: String
    public var status: String

    public init(type: String, status: String) {
        self.type = type
        self.status = status
    }
}

public struct ContainerStatus: Codable, Sendable, Equatable {
    public struct State: Codable, Sendable, Equatable {
        public struct Running: Codable, Sendable, Equatable {
            public var startedAt: Date?
        }
        public var running: Running?
    }

    public var name: String
    public var restartCount: Int?
    public var state: State?

    public init(name: String, restartCount: Int? = nil, runningSince startedAt: Date? = nil) {
        self.name = name
        self.restartCount = restartCount
        self.state = startedAt.map { State(running: State.Running(startedAt: $0)) }
    }
}

public struct PodList: Codable, Sendable {
    public var metadata: ListMeta
    public var items: [Pod]
}
