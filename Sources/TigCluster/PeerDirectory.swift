import Glibc
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TigHTTP

/// Who is in the cluster: the headless Service's DNS name resolved with the
/// system resolver (so Kubernetes DNS and /etc/resolv.conf work unchanged),
/// or a static list, re-resolved every refresh period.
///
/// Members are every address the source names. This pod is the member whose
/// address is one of its own (`POD_IP` or an interface address) on its own
/// port; when the source does not name it (it is not ready, or draining),
/// it is not a member, exactly as the other pods see it.
public final class PeerDirectory: Sendable {
    public enum Source: Sendable {
        /// A DNS name; every address it resolves to is a pod on `port`.
        case dns(name: String, port: Int)
        /// Fixed `host:port` entries (host names are resolved too).
        case fixed([Peer])
    }

    public struct Membership: Sendable, Equatable {
        /// Every member, this pod included when the source names it.
        public var members: [Peer]
        /// This pod, when it is a member.
        public var local: Peer?

        public var peers: [Peer] {
            members.filter { $0 != local }
        }
    }

    private let source: Source
    private let ownPort: Int
    private let ownAddresses: Set<String>
    private let state = NIOLockedValueBox(Membership(members: [], local: nil))
    private let logger: Logger

    public init(source: Source, ownPort: Int, podIP: String?, logger: Logger) {
        self.source = source
        self.ownPort = ownPort
        self.ownAddresses = LocalAddresses.current().union(podIP.map { [$0] } ?? [])
        self.logger = logger
    }

    public var membership: Membership {
        state.withLockedValue { $0 }
    }

    public var peers: [Peer] {
        membership.peers
    }

    /// Resolves the source now (blocking: call it off the event loops) and
    /// returns the new membership.
    @discardableResult
    public func refresh() -> Membership {
        let resolved: [Peer]
        switch source {
        case .dns(let name, let port):
            resolved = Self.resolve(name).map { Peer(host: $0, port: port) }
        case .fixed(let entries):
            resolved = entries.flatMap { entry in
                Self.resolve(entry.host).prefix(1).map { Peer(host: $0, port: entry.port) }
            }
        }
        let members = Array(Set(resolved)).sorted { $0.description < $1.description }
        let local = members.first { ownAddresses.contains($0.host) && $0.port == ownPort }
        let membership = Membership(members: members, local: local)
        let previous = state.withLockedValue { state in
            defer { state = membership }
            return state
        }
        if previous != membership {
            logger.info("peers changed", metadata: [
                "peers": "\(membership.peers.map(\.description).joined(separator: ","))",
                "self": "\(local?.description ?? "not listed")",
            ])
        }
        return membership
    }

    /// Re-resolves every `period` on the blocking-I/O thread pool until the
    /// returned task is cancelled. `onChange` sees each new membership.
    public func refreshPeriodically(every period: TimeAmount, on eventLoop: any EventLoop, onChange: @escaping @Sendable (Membership) -> Void) -> RepeatedTask {
        eventLoop.scheduleRepeatedAsyncTask(initialDelay: .zero, delay: period) { [self] _ in
            NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) { self.refresh() }.map(onChange)
        }
    }

    /// Addresses a name resolves to, as numeric strings; empty when it does
    /// not resolve (a headless Service with no ready pods has no records).
    static func resolve(_ name: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let address = current.pointee.ai_addr, let text = LocalAddresses.numeric(address) {
                addresses.append(text)
            }
            entry = current.pointee.ai_next
        }
        return addresses
    }
}

/// This machine's interface addresses, to recognise itself among the peers.
enum LocalAddresses {
    static func current() -> Set<String> {
        var first: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&first) == 0 else { return [] }
        defer { freeifaddrs(first) }
        var addresses: Set<String> = []
        var entry = first
        while let current = entry {
            if let address = current.pointee.ifa_addr, let text = numeric(address) {
                addresses.insert(text)
            }
            entry = current.pointee.ifa_next
        }
        return addresses
    }

    static func numeric(_ address: UnsafePointer<sockaddr>) -> String? {
        let family = Int32(address.pointee.sa_family)
        guard family == AF_INET || family == AF_INET6 else { return nil }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
        guard getnameinfo(address, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
        return String(cString: host)
    }
}
