import Logging
import NIOCore
import Synchronization
import TigStore

/// Limits and timeouts of the HTTP front.
public struct HTTPLimits: Sendable {
    /// Largest accepted request body (413 above).
    public var maxBlockSize: Int
    /// A request head must arrive completely within this (slowloris guard).
    public var headerTimeout: TimeAmount
    /// A connection with no traffic for this long is closed.
    public var idleTimeout: TimeAmount

    /// A request body must arrive at least this fast (bytes per second),
    /// measured over each `bodyRateWindow` (a body trickled byte by byte
    /// would otherwise hold a connection and a file forever); 0 turns it off.
    public var minimumBodyRate: Int
    public var bodyRateWindow: TimeAmount

    public init(
        maxBlockSize: Int = 128 << 20, headerTimeout: TimeAmount = .seconds(10), idleTimeout: TimeAmount = .seconds(60),
        minimumBodyRate: Int = 1024, bodyRateWindow: TimeAmount = .seconds(10)
    ) {
        self.maxBlockSize = maxBlockSize
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.minimumBodyRate = minimumBodyRate
        self.bodyRateWindow = bodyRateWindow
    }
}

/// Whether the pod should receive traffic: a write can succeed (the data
/// directory has `minimumFreeSpace` free and a probe write works), the pod
/// is not draining, and a cluster member knows its peers.
public final class Readiness: Sendable {
    private let draining = Atomic<Bool>(false)
    /// Until the first resolution of the members a pod would answer 404 for
    /// what its peers hold, and place writes on itself alone.
    private let awaitingMembership = Atomic<Bool>(false)
    private let store: BlockStore
    private let minimumFreeSpace: Int

    public init(store: BlockStore, minimumFreeSpace: Int = 8 << 20) {
        self.store = store
        self.minimumFreeSpace = minimumFreeSpace
    }

    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    public func beginDraining() {
        draining.store(true, ordering: .relaxed)
    }

    public func awaitMembership() {
        awaitingMembership.store(true, ordering: .relaxed)
    }

    /// Also after a lookup that found no one: the first pod of a cluster is
    /// not in its DNS name until it is ready.
    public func membershipResolved() {
        awaitingMembership.store(false, ordering: .relaxed)
    }

    public var isReady: Bool {
        !isDraining && !awaitingMembership.load(ordering: .relaxed) && store.acceptsWrites(reserve: minimumFreeSpace)
    }
}

/// Everything a request handler needs, shared by all connections.
public final class ServerContext: Sendable {
    public let store: BlockStore
    public let authority: APIKeyAuthority
    public let metrics: ServerMetrics
    public let readiness: Readiness
    public let limits: HTTPLimits
    public let usesTLS: Bool
    public let logger: Logger
    /// Set by the cluster when this pod has peers; nil when it runs alone.
    public let network: (any PeerNetwork)?

    public init(
        store: BlockStore, authority: APIKeyAuthority, metrics: ServerMetrics, readiness: Readiness,
        limits: HTTPLimits, usesTLS: Bool, logger: Logger, network: (any PeerNetwork)?
    ) {
        self.store = store
        self.authority = authority
        self.metrics = metrics
        self.readiness = readiness
        self.limits = limits
        self.usesTLS = usesTLS
        self.logger = logger
        self.network = network
    }
}
