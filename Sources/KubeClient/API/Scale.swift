/// `apps/v1` Scale: the `/scale` subresource of a Deployment.
public struct Scale: Codable, Sendable, Equatable {
    public struct Spec: Codable, Sendable, Equatable {
        public var replicas: Int?
    }
    public struct Status: Codable, Sendable, Equatable {
        public var replicas: Int?
        public var selector: String?
    }

    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    /// The replicas asked for (a missing field means 0, as the API defaults it).
    public var replicas: Int { spec.replicas ?? 0 }
}

/// Only the identity of the Deployment: Events name it by uid.
public struct Deployment: Codable, Sendable, Equatable {
    public var metadata: ObjectMeta
}

/// `autoscaling/v2` HorizontalPodAutoscaler, reduced to what it scales.
public struct HorizontalPodAutoscaler: Codable, Sendable, Equatable {
    public struct Spec: Codable, Sendable, Equatable {
        public var scaleTargetRef: CrossVersionObjectReference
    }
    public struct CrossVersionObjectReference: Codable, Sendable, Equatable {
        public var apiVersion: String?
        public var kind: String
        public var name: String
    }

    public var metadata: ObjectMeta
    public var spec: Spec

    public func targets(deployment: String) -> Bool {
        spec.scaleTargetRef.kind == "Deployment" && spec.scaleTargetRef.name == deployment
            && (spec.scaleTargetRef.apiVersion.map { $0.hasPrefix("apps/") } ?? true)
    }
}

public struct HorizontalPodAutoscalerList: Codable, Sendable {
    public var items: [HorizontalPodAutoscaler]
}
