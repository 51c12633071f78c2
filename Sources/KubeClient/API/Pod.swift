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

    /// When the pod's current process started counting its work: the latest
    /// running container's start, else the pod's start, else its creation.
    public var runningSince: Date? {
        let starts = status?.containerStatuses?.compactMap { $0.state?.running?.startedAt } ?? []
        return starts.max() ?? status?.startTime ?? metadata.creationTimestamp
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
}

public struct PodList: Codable, Sendable {
    public var metadata: ListMeta
    public var items: [Pod]
}
