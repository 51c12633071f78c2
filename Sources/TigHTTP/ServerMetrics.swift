import NIOConcurrencyHelpers
import NIOHTTP1
import Prometheus
import TigStore

/// The pod's Prometheus metrics. A (method, code) series of the request
/// counter, and a method's duration histogram, is made when first used:
/// no zero series for answers the pod never gave; only `GET 200` exists
/// from the start, so that an idle pod's work reads as 0, not as missing
/// (the operator tells the two apart). Methods other than tig's five count
/// as `OTHER`, so the series stay few whatever clients send.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let requests = NIOLockedValueBox<[RequestKey: (counter: Counter, duration: DurationHistogram)]>([:])
    private static var requestsName: MetricNameDescriptor { name("requests", "total", "Requests answered, by method and status code") }
    private static var durationName: MetricNameDescriptor {
        name("request_duration", "seconds", "Time from a request's head to the end of its answer, by method")
    }
    private static let durationBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]
    public let bytesReceived: Counter
    public let bytesSent: Counter
    private let blocks: Gauge
    private let storedBytes: Gauge
    private let swept: Counter
    private let evicted: Counter
    /// How much of the store's sweep and eviction counts the counters already report.
    private let reported = NIOLockedValueBox((swept: 0, evicted: 0))
    private let dataLimit: Gauge
    private let dataFree: Gauge
    private let dataSize: Gauge
    private let ready: Gauge
    private let draining: Gauge
    /// Set when the last drain pass ends; a stopping pod that left blocks
    /// keeps its admin port up for a scrape to see it (`--drain-report-delay`).
    public let drainLeftBlocks: Gauge
    private let process: ProcessMetrics
    /// The data directory's file system (free bytes, size), read at each scrape.
    private let fileSystemSpace: @Sendable () -> (free: Int, size: Int)?
    public let peers: Gauge
    private let forwarded: [ForwardResult: Counter]
    public let drained: Counter
    public let rebalanced: Counter
    let hotCacheHits: Counter
    let hotCacheFills: Counter
    private let hotCacheBytes: Gauge
    private let statistics: StoreStatistics

    struct RequestKey: Hashable {
        let method: String
        let code: UInt

        init(method: HTTPMethod, code: UInt) {
            self.method = ServerMetrics.methods.contains(method) ? method.rawValue : "OTHER"
            self.code = code
        }
    }

    /// Outcomes of looking for a block on the peers.
    public enum ForwardResult: String, CaseIterable, Sendable {
        /// A peer held it and answered the forwarded request.
        case hit
        /// No peer held it; answered locally.
        case miss
        /// The chosen peer failed while answering.
        case error
    }

    static let methods: [HTTPMethod] = [.GET, .HEAD, .PUT, .POST, .DELETE]

    public init(
        statistics: StoreStatistics, maxDataSize: Int? = nil,
        fileSystemSpace: @escaping @Sendable () -> (free: Int, size: Int)? = { nil },
        version: String = "", revision: String = ""
    ) {
        self.statistics = statistics
        self.fileSystemSpace = fileSystemSpace
        self.process = ProcessMetrics(registry: registry)
        registry.makeGauge(
            descriptor: Self.name("build_info", "", "The running tig: its version and source revision (value 1)"),
            labels: [("version", version), ("revision", revision)]
        ).set(1.0)
        self.bytesReceived = registry.makeCounter(descriptor: Self.name("bytes_received", "total", "Request body bytes received"))
        self.bytesSent = registry.makeCounter(descriptor: Self.name("bytes_sent", "total", "Response body bytes sent"))
        self.blocks = registry.makeGauge(descriptor: Self.name("blocks", "", "Blocks, key slots and channels stored on this pod"))
        self.storedBytes = registry.makeGauge(descriptor: Self.name("stored", "bytes", "Bytes stored on this pod"))
        self.swept = registry.makeCounter(descriptor: Self.name("swept", "total", "Blocks deleted by the retention sweep"))
        self.evicted = registry.makeCounter(descriptor: Self.name("evicted", "total", "Content blocks deleted, least recently used first, to stay within --max-data-size"))
        self.dataLimit = registry.makeGauge(descriptor: Self.name("data_limit", "bytes", "--max-data-size: bound of the stored bytes (0: the file system's size)"))
        dataLimit.set(Double(maxDataSize ?? 0))
        self.dataFree = registry.makeGauge(descriptor: Self.name("data_free", "bytes", "Free bytes of the file system holding the data directory"))
        self.dataSize = registry.makeGauge(descriptor: Self.name("data_size", "bytes", "Size of the file system holding the data directory"))
        self.ready = registry.makeGauge(descriptor: Self.name("ready", "", "1 while /readyz answers 200: not draining, and the store takes writes"))
        self.draining = registry.makeGauge(descriptor: Self.name("draining", "", "1 from SIGTERM on, while the pod hands its blocks to its peers"))
        self.drainLeftBlocks = registry.makeGauge(
            descriptor: Self.name("drain_left", "blocks", "Blocks the drain could not hand to a peer (lost when the pod exits); 0 until a drain ended"))
        self.peers = registry.makeGauge(descriptor: Self.name("peers", "", "Other pods of the cluster this pod knows"))
        let forwardedName = Self.name("forwarded", "total", "Lookups of blocks this pod does not hold, by outcome")
        var forwarded: [ForwardResult: Counter] = [:]
        for result in ForwardResult.allCases {
            forwarded[result] = registry.makeCounter(descriptor: forwardedName, labels: [("result", result.rawValue)])
        }
        self.forwarded = forwarded
        self.drained = registry.makeCounter(descriptor: Self.name("drained_blocks", "total", "Blocks handed to peers while draining"))
        self.rebalanced = registry.makeCounter(descriptor: Self.name("rebalanced_blocks", "total", "Blocks handed to their new homes after the members changed"))
        self.hotCacheHits = registry.makeCounter(descriptor: Self.name("hot_cache_hits", "total", "Reads of blocks homed elsewhere answered from the hot cache"))
        self.hotCacheFills = registry.makeCounter(descriptor: Self.name("hot_cache_fills", "total", "Relayed blocks kept in the hot cache"))
        self.hotCacheBytes = registry.makeGauge(descriptor: Self.name("hot_cache", "bytes", "Bytes of relayed blocks held in the hot cache"))
        _ = requestSeries(RequestKey(method: .GET, code: 200))
    }

    /// `tig_<metric>_<unit>`, with its help line.
    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "tig", metricName: metric, unitName: unit, helpText: help)
    }

    func recordRequest(method: HTTPMethod, code: UInt, duration elapsed: Duration) {
        let series = requestSeries(RequestKey(method: method, code: code))
        series.counter.increment()
        series.duration.record(elapsed)
    }

    private func requestSeries(_ key: RequestKey) -> (counter: Counter, duration: DurationHistogram) {
        requests.withLockedValue { made in
            if let series = made[key] { return series }
            let series = (
                counter: registry.makeCounter(descriptor: Self.requestsName, labels: [("method", key.method), ("code", String(key.code))]),
                duration: registry.makeDurationHistogram(
                    descriptor: Self.durationName, labels: [("method", key.method)], buckets: Self.durationBuckets))
            made[key] = series
            return series
        }
    }

    public func recordForward(_ result: ForwardResult) {
        forwarded[result]?.increment()
    }

    /// The exposition text, with the store's, the hot cache's and readiness's gauges refreshed first.
    public func render(hotCacheBytes hot: Int = 0, readiness: Readiness) -> [UInt8] {
        hotCacheBytes.set(Double(hot))
        if let space = fileSystemSpace() {
            dataFree.set(Double(space.free))
            dataSize.set(Double(space.size))
        }
        ready.set(readiness.isReady ? 1.0 : 0.0)
        draining.set(readiness.isDraining ? 1.0 : 0.0)
        process.refresh()
        blocks.set(Double(statistics.blocks))
        storedBytes.set(Double(statistics.bytes))
        reported.withLockedValue { reported in
            let (sweptNow, evictedNow) = (statistics.swept, statistics.evicted)
            swept.increment(by: Int64(sweptNow - reported.swept))
            evicted.increment(by: Int64(evictedNow - reported.evicted))
            reported = (sweptNow, evictedNow)
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
