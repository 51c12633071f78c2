/// A Kubernetes API call that did not succeed.
public enum KubeAPIError: Error, CustomStringConvertible {
    /// The server answered with an error status (after any retries).
    case status(code: Int, Status?)
    /// The answer could not be understood.
    case malformed(String)
    /// The call's deadline passed before it succeeded (see `bounded(by:)`).
    case deadlineExceeded

    public var code: Int? {
        if case .status(let code, _) = self { code } else { nil }
    }

    /// 409: an update based on a stale resourceVersion, or a create of something that exists.
    public var isConflict: Bool { code == 409 }
    /// 410: the resourceVersion is too old to watch from; list again.
    public var isGone: Bool { code == 410 }
    public var isNotFound: Bool { code == 404 }

    public var description: String {
        switch self {
        case .status(let code, let status):
            let detail = [status?.reason, status?.message].compactMap { $0 }.joined(separator: ": ")
            return "HTTP \(code)" + (detail.isEmpty ? "" : " \(detail)")
        case .malformed(let why):
            return "malformed answer: \(why)"
        case .deadlineExceeded:
            return "deadline exceeded"
        }
    }
}
