import KubeClient
import Logging

/// Reads each ready pod's work counter from its `/metrics`, over libcurl,
/// all pods in parallel with a short timeout: one slow pod must not delay
/// the decision for the others (it simply has no measurement this time).
struct PodScraper: Sendable {
    let executor: CurlExecutor
    let port: Int
    let scheme: OperatorConfig.MetricsScheme
    let work: OperatorConfig.Work
    let timeout: Double
    let logger: Logger

    /// Work counter by pod UID; pods that failed to answer are absent.
    func scrape(_ targets: [(uid: String, ip: String)]) async -> [String: Double] {
        await withTaskGroup(of: (String, Double?).self) { group in
            for target in targets {
                group.addTask { (target.uid, await scrape(ip: target.ip)) }
            }
            var counters: [String: Double] = [:]
            for await (uid, counter) in group {
                counters[uid] = counter
            }
            return counters
        }
    }

    private func scrape(ip: String) async -> Double? {
        let host = ip.contains(":") ? "[\(ip)]" : ip
        let request = HTTPRequest(
            url: "\(scheme.rawValue)://\(host):\(port)/metrics", timeout: timeout, connectTimeout: timeout,
            tls: TLSSettings(insecureSkipVerify: scheme == .https))
        do {
            let response = try await executor.perform(request)
            guard response.status == 200 else {
                logger.warning("scrape-failed", metadata: ["pod-ip": "\(ip)", "status": "\(response.status)"])
                return nil
            }
            let counter = PrometheusText.sum(of: work.metricNames, in: String(decoding: response.body, as: UTF8.self))
            if counter == nil {
                logger.warning("scrape-no-work-metric", metadata: ["pod-ip": "\(ip)", "metrics": "\(work.metricNames.sorted())"])
            }
            return counter
        } catch {
            logger.warning("scrape-failed", metadata: ["pod-ip": "\(ip)", "error": "\(error)"])
            return nil
        }
    }
}
