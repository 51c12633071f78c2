import ArgumentParser
import Foundation
import Glibc
import Logging
import NIOCore
import NIOPosix
import TigCluster
import TigHTTP
import TigStore

extension ServeCommand {
    /// The cluster secret from `--cluster-secret-file` / `TIG_CLUSTER_SECRET_FILE`
    /// (trailing whitespace trimmed), or none. The file must be a regular
    /// file (a FIFO would block the start) and the secret long enough.
    func clusterCredentials(environment: [String: String]) throws -> PeerCredentials {
        guard let path = clusterSecretFile ?? environment["TIG_CLUSTER_SECRET_FILE"], !path.isEmpty else {
            return PeerCredentials(secret: nil)
        }
        var status = stat()
        guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, let contents = FileManager.default.contents(atPath: path) else {
            throw ValidationError("--cluster-secret-file \(path) is not a readable regular file")
        }
        var secret = Array(contents)
        while let last = secret.last, [UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t")].contains(last) {
            secret.removeLast()
        }
        guard secret.count >= PeerCredentials.minimumSecretLength else {
            throw ValidationError("the cluster secret in \(path) is shorter than \(PeerCredentials.minimumSecretLength) bytes")
        }
        return PeerCredentials(secret: secret)
    }

    func effectiveReplicas(_ environment: [String: String]) throws -> Int {
        if let replicas { return replicas }
        guard let text = environment["TIG_REPLICAS"] else { return 1 }
        guard let value = Int(text), value >= 1 else { throw ValidationError("TIG_REPLICAS=\(text) is not a count of at least 1") }
        return value
    }
}

/// The cluster side of a pod: membership kept fresh, the peer client, the
/// network the HTTP front asks, and the rebalancer (which also drains).
struct Cluster {
    let source: PeerDirectory.Source
    let network: ClusterNetwork
    let rebalancer: Rebalancer
    let authenticated: Bool
    private let client: PeerClient
    private let refresher: RepeatedTask

    init(
        source: PeerDirectory.Source, port: Int, podIP: String?, tls: Bool, options: ServeCommand,
        credentials: PeerCredentials, replicas: Int,
        store: BlockStore, readiness: Readiness, authority: APIKeyAuthority, metrics: ServerMetrics,
        group: MultiThreadedEventLoopGroup, hotCache: HotCache, logger: Logger
    ) {
        self.source = source
        self.authenticated = credentials.hasSecret
        let refresh = options.peerRefresh.timeAmount
        let directory = PeerDirectory(
            source: source, ownPort: port, podIP: podIP,
            announcementLifetime: refresh * 3, trustsAnnouncements: credentials.hasSecret, logger: logger)
        let client = PeerClient(
            group: group, tls: tls, verifyCertificates: options.peerTlsVerify, credentials: credentials,
            probeTimeout: options.peerTimeout.timeAmount, unreachable: { directory.unreachable($0) })
        self.client = client
        // Lookups ask every member for twice as long as the rebalancers wait
        // before they move blocks, which is two refreshes: by then every pod
        // has re-resolved the members at least once.
        let settled = refresh * 2
        let network = ClusterNetwork(
            directory: directory, client: client, readiness: readiness, credentials: credentials,
            replicas: replicas, settling: settled * 2, hotCache: hotCache)
        self.network = network
        let rebalancer = Rebalancer(
            store: store, directory: directory, network: network, client: client, replicas: replicas,
            apiKey: { authority.keyForPeers }, metrics: metrics, logger: logger)
        self.rebalancer = rebalancer
        self.refresher = network.keepMembershipFresh(every: refresh, on: group.next()) { membership in
            metrics.peers.set(Double(membership.peers.count))
            rebalancer.membershipRefreshed(settled: settled, recheck: refresh * 12, leaving: readiness.isDraining)
        }
    }

    func stop() async {
        refresher.cancel()
        await network.announceDeparture()
        try? await client.shutdown()
    }
}
