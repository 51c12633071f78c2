/// Which of the pod's two listeners a connection arrived on. The public
/// port serves the block API (and the peers' own requests); the admin port
/// serves what only operators and the platform need — metrics, probes, the
/// listing — so an ingress in front of the public port never exposes them.
public enum Listener: Sendable {
    case blocks
    case admin

    /// Whether this listener answers `route` with `method`; anything else is
    /// 404, as for a path tig does not serve. A peer's announcement
    /// (`/healthz`) and its part of a cluster-wide listing stay on the public
    /// port: they are the peer protocol, not operations.
    func serves(_ route: Route, method: HTTPMethodKind, fromPeer: Bool) -> Bool {
        switch (self, route) {
        case (.admin, .healthz), (.admin, .readyz), (.admin, .metrics): true
        case (.admin, .store): method == .read
        case (.admin, .block): false
        case (.blocks, .block): true
        case (.blocks, .store): method == .write || fromPeer
        case (.blocks, .healthz): fromPeer
        case (.blocks, .readyz), (.blocks, .metrics): false
        }
    }

    /// A request method as far as routing by listener cares.
    enum HTTPMethodKind {
        case read
        case write
    }
}
