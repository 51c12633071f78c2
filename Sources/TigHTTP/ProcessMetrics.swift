import Foundation
import NIOConcurrencyHelpers
import Prometheus

/// The standard process metrics of Prometheus's client libraries, read from
/// /proc at each scrape: resident memory, open and allowed descriptors, CPU
/// time and start time. No other work: nothing runs between scrapes.
final class ProcessMetrics: Sendable {
    private let residentMemory: Gauge
    private let openDescriptors: Gauge
    private let maxDescriptors: Gauge
    private let cpuSeconds: Counter
    /// The CPU seconds already counted, so each scrape adds what passed since.
    private let countedCPU = NIOLockedValueBox(0.0)

    init(registry: PrometheusCollectorRegistry) {
        residentMemory = registry.makeGauge(descriptor: Self.name("resident_memory", "bytes", "Resident memory size in bytes"))
        openDescriptors = registry.makeGauge(descriptor: Self.name("open_fds", "", "Number of open file descriptors"))
        maxDescriptors = registry.makeGauge(descriptor: Self.name("max_fds", "", "Maximum number of open file descriptors"))
        cpuSeconds = registry.makeCounter(descriptor: Self.name("cpu_seconds", "total", "Total user and system CPU time spent in seconds"))
        let start = registry.makeGauge(descriptor: Self.name("start_time", "seconds", "Start time of the process since the Unix epoch in seconds"))
        start.set(Date().timeIntervalSince1970)
    }

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "process", metricName: metric, unitName: unit, helpText: help)
    }

    func refresh() {
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let pages = Self.fields("/proc/self/statm").dropFirst().first.flatMap(Double.init) {
            residentMemory.set(pages * pageSize)
        }
        if let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            openDescriptors.set(Double(descriptors.count))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { maxDescriptors.set(Double(limit.rlim_cur)) }
        // /proc/self/stat: the name in parentheses may hold spaces, so fields
        // are counted after its closing parenthesis; utime and stime are the
        // 14th and 15th fields, the 12th and 13th after it.
        let stat = (try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8)) ?? ""
        if let close = stat.lastIndex(of: ")") {
            let after = stat[stat.index(after: close)...].split(separator: " ")
            if after.count > 12, let user = Double(after[11]), let system = Double(after[12]) {
                let total = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
                let delta = countedCPU.withLockedValue { counted in
                    defer { counted = max(counted, total) }
                    return max(total - counted, 0)
                }
                if delta > 0 { cpuSeconds.increment(by: delta) }
            }
        }
    }

    private static func fields(_ path: String) -> [Substring] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: " ")
    }
}
