import Foundation

/// When and how long to wait before trying a failed request again.
///
/// Retried: 429 Too Many Requests, 5xx answers that may be temporary, and
/// requests that got no answer at all (refused, reset, timed out). The wait
/// doubles with each attempt up to `maxDelay`, with jitter so that many
/// clients failing together do not come back together; a `Retry-After`
/// header from the server is honoured instead (up to `maxRetryAfter`).
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double
    public var maxRetryAfter: Double

    public init(maxAttempts: Int = 6, baseDelay: Double = 0.2, maxDelay: Double = 10, maxRetryAfter: Double = 30) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    public static func isRetryable(status: Int) -> Bool {
        status == 429 || status == 500 || status == 502 || status == 503 || status == 504
    }

    /// Seconds to wait after attempt `attempt` (0-based) failed. `random` is
    /// uniform in [0, 1): the delay is between half and all of the doubled base.
    public func delay(afterAttempt attempt: Int, retryAfter: Double?, random: Double) -> Double {
        if let retryAfter { return min(max(retryAfter, 0), maxRetryAfter) }
        let ceiling = min(maxDelay, baseDelay * Double(1 << min(attempt, 30)))
        return ceiling / 2 + ceiling / 2 * random
    }

    /// `Retry-After` in seconds. The HTTP-date form is not used by the
    /// Kubernetes API server and is ignored (the backoff applies).
    public static func retryAfter(_ response: HTTPResponse) -> Double? {
        response.headers["retry-after"].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
    }
}
