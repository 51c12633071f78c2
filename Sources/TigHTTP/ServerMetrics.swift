import NIOConcurrencyHelpers
import NIOHTTP1
import Prometheus
import TigStore

/// The pod's Prometheus metrics. Counters for every (method, code) pair tig
/// can answer are made up front, so recording a request is a lock-free
/// dictionary read and an atomic add.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let requests: [RequestKey: Counter]
    private let otherRequests: Counter
    private let duration: DurationHistogram
    public let bytesReceived: Counter
    public let bytesSent: Counter
    private let blocks: Gauge
    private let storedBytes: Gauge
    private let swept: Counter
    /// How much of the store's sweep count `swept` already reports.
    private let sweptReported = NIOLockedValueBox(0)
    public let peers: Gauge
    private let forwarded: [ForwardResult: Counter]
    public let drained: Counter
    private let statistics: StoreStatistics

    struct RequestKey: Hashable {
        /// Index into `methods`.
        let method: Int
        let code: UInt

        init?(method: HTTPMethod, code: UInt) {
            guard let index = ServerMetrics.methods.firstIndex(of: method) else { return nil }
            self.method = index
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
    static let codes: [UInt] = [100, 200, 400, 401, 403, 404, 405, 408, 409, 413, 414, 431, 500, 502, 503, 507]

    public init(statistics: StoreStatistics) {
        self.statistics = statistics
        var requests: [RequestKey: Counter] = [:]
        for method in Self.methods {
            for code in Self.codes {
                guard let key = RequestKey(method: method, code: code) else { continue }
                requests[key] = registry.makeCounter(
                    name: "tig_requests_total", labels: [("method", method.rawValue), ("code", String(code))])
            }
        }
        self.requests = requests
        self.otherRequests = registry.makeCounter(name: "tig_requests_total", labels: [("method", "OTHER"), ("code", "other")])
        self.duration = registry.makeDurationHistogram(
            name: "tig_request_duration_seconds",
            buckets: [.microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
                      .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                      .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                      .seconds(1), .seconds(2.5), .seconds(5), .seconds(10)])
        self.bytesReceived = registry.makeCounter(name: "tig_bytes_received_total")
        self.bytesSent = registry.makeCounter(name: "tig_bytes_sent_total")
        self.blocks = registry.makeGauge(name: "tig_blocks")
        self.storedBytes = registry.makeGauge(name: "tig_stored_bytes")
        self.swept = registry.makeCounter(name: "tig_swept_total")
        self.peers = registry.makeGauge(name: "tig_peers")
        var forwarded: [ForwardResult: Counter] = [:]
        for result in ForwardResult.allCases {
            forwarded[result] = registry.makeCounter(name: "tig_forwarded_total", labels: [("result", result.rawValue)])
        }
        self.forwarded = forwarded
        self.drained = registry.makeCounter(name: "tig_drained_blocks_total")
    }

    func recordRequest(method: HTTPMethod, code: UInt, duration elapsed: Duration) {
        (RequestKey(method: method, code: code).flatMap { requests[$0] } ?? otherRequests).increment()
        duration.record(elapsed)
    }

    public func recordForward(_ result: ForwardResult) {
        forwarded[result]?.increment()
    }

    /// The exposition text, with the store's gauges refreshed first.
    public func render() -> [UInt8] {
        blocks.set(Double(statistics.blocks))
        storedBytes.set(Double(statistics.bytes))
        sweptReported.withLockedValue { reported in
            let total = statistics.swept
            swept.increment(by: Int64(total - reported))
            reported = total
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
