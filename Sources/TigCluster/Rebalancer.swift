import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import TigAddress
import TigHTTP
import TigStore

/// Moves blocks to their homes: in the background after the members
/// changed (a join, a leave, a home back from down), and every block when
/// the pod drains — the same code, with this pod left out of the ranking.
///
/// Content blocks are stored at every home (`PUT /`); on a pod that stays
/// they are then removed (evicted only if unchanged), while a draining pod
/// keeps them until it exits, since a peer that found one here a moment ago
/// may still ask for it. Key slots go to their primary home with
/// `setifnot`, so a value the receiver already holds (written there since)
/// wins, and are removed here, so that later writes find them at their new
/// place; what was written here in between is passed on first (see
/// `settle`).
///
/// With `--replicas` above 1, a pod that stays a home of a content block
/// also copies it to the homes the block gained since the last clean pass
/// (a home lost to a crash is replaced by the next in rank): the cluster
/// returns to R copies without a read having to find the gap. Copies follow
/// the members as the cluster's DNS (or list) names them, not the down
/// marks of the moment, so a peer that timed out once is not replaced.
public final class Rebalancer: Sendable {
    private let store: BlockStore
    private let directory: PeerDirectory
    private let network: ClusterNetwork
    private let client: PeerClient
    private let replicas: Int
    private let apiKey: @Sendable () -> String?
    private let metrics: ServerMetrics
    private let logger: Logger
    /// Content blocks already handed over while draining (they stay here;
    /// later passes skip them).
    private let handedOver = NIOLockedValueBox(Set<BlockAddress>())
    /// A background pass under way; the candidates of the last pass that
    /// left nothing behind, with when it ran; and what copies are computed
    /// against.
    private let background = NIOLockedValueBox<(running: Bool, clean: [Peer]?, at: NIODeadline, copies: CopyReference)>(
        (false, nil, .distantPast, CopyReference()))

    /// The members a block's copies are known to be at (its homes among
    /// them): those of the last clean pass, or, before the first, every
    /// member seen (a cluster forms gradually, and a pod may crash before
    /// any pass ran). Kept through failed passes, so their copies are tried
    /// again, up to `copyAttempts` passes.
    struct CopyReference {
        var members: [Peer] = []
        var failedPasses = 0
    }

    static let copyAttempts = 3

    /// Blocks in flight at once: the bound on what a move costs the cluster.
    static let concurrency = 16

    public init(
        store: BlockStore, directory: PeerDirectory, network: ClusterNetwork, client: PeerClient, replicas: Int,
        apiKey: @escaping @Sendable () -> String?, metrics: ServerMetrics, logger: Logger
    ) {
        self.store = store
        self.directory = directory
        self.network = network
        self.client = client
        self.replicas = max(1, replicas)
        self.apiKey = apiKey
        self.metrics = metrics
        self.logger = logger
    }

    public struct Report: Sendable, Equatable {
        public var blocks = 0
        public var bytes = 0
        public var failed = 0
        public var left = 0
    }

    /// Called every membership refresh. Starts a background pass when the
    /// members changed, once the change is `settled` old (so that every pod
    /// has learned it and looks for moved blocks at their new homes), and
    /// again every `recheck` for blocks written meanwhile by pods that had
    /// not learned it yet.
    public func membershipRefreshed(settled: TimeAmount, recheck: TimeAmount, leaving: Bool) {
        guard !leaving else { return }
        let candidates = network.candidates(directory.membership, local: directory.identity, leaving: false)
        let named = namedCandidates()
        let reference = background.withLockedValue { state in
            if state.clean == nil {
                state.copies.members += named.filter { !state.copies.members.contains($0) }
            }
            return state.copies.members
        }
        guard !directory.changed(within: settled) else { return }
        let now = NIODeadline.now()
        let starts = background.withLockedValue { state in
            guard !state.running, state.clean != candidates || now - state.at >= recheck else { return false }
            state.running = true
            return true
        }
        guard starts else { return }
        Task {
            let copying = replicas > 1 ? (reference: reference, now: named) : nil
            let report = await pass(leaving: false, copying: copying, until: .now + .seconds(600))
            background.withLockedValue { state in
                state.running = false
                if report.failed == 0 {
                    state.clean = candidates
                    state.copies = CopyReference(members: named)
                } else {
                    state.copies.failedPasses += 1
                    if state.copies.failedPasses >= Self.copyAttempts { state.copies = CopyReference(members: named) }
                }
                state.at = .now()
            }
        }
    }

    /// The candidates as named by the cluster's source, down marks aside.
    private func namedCandidates() -> [Peer] {
        var named = directory.membership
        named.down = []
        return network.candidates(named, local: directory.identity, leaving: false)
    }

    /// Drains until every block is at a home without this pod, no peer is
    /// left, or `deadline`.
    @discardableResult
    public func drain(until deadline: ContinuousClock.Instant) async -> Report {
        await pass(leaving: true, until: deadline)
    }

    /// What a handover is for, and so what becomes of the block here.
    private enum Purpose {
        /// Homed elsewhere now: removed here once a home has it.
        case move
        /// This pod leaves: kept until it exits, remembered as handed over.
        case drain
        /// Still homed here too: a copy for a home it gained.
        case copy
    }

    /// Moves what is not at its homes; passes repeat, so blocks written
    /// during one go in the next. With `copying`, the first round also
    /// copies the content blocks homed here to the homes they have among
    /// `now` but not among `reference`.
    private func pass(
        leaving: Bool, copying: (reference: [Peer], now: [Peer])? = nil, until deadline: ContinuousClock.Instant
    ) async -> Report {
        var report = Report()
        let started = ContinuousClock.now
        let local = directory.identity
        var firstRound = true
        while ContinuousClock.now < deadline {
            let done = handedOver.withLockedValue { $0 }
            // A leaving pod learns of pods that left before it first.
            let membership = leaving ? directory.refresh() : directory.membership
            let candidates = network.candidates(membership, local: local, leaving: leaving)
            let copies = firstRound ? copying : nil
            firstRound = false
            let moves = ((try? store.list()) ?? []).compactMap { entry -> (BlockStore.Entry, [Peer], Purpose)? in
                guard !done.contains(entry.address) else { return nil }
                let homes = Placement.homes(of: entry.address, among: candidates, replicas: replicas)
                guard homes.contains(where: { $0 == local }) else { return (entry, homes, leaving ? .drain : .move) }
                guard let copies, entry.kind == .content else { return nil }
                let before = Placement.homes(of: entry.address, among: copies.reference, replicas: replicas)
                let gained = Placement.homes(of: entry.address, among: copies.now, replicas: replicas)
                    .filter { $0 != local && !before.contains($0) }
                return gained.isEmpty ? nil : (entry, gained, .copy)
            }
            guard !moves.isEmpty else { break }
            guard !candidates.isEmpty else {
                logger.warning("drain-no-peer", metadata: ["blocks": "\(moves.count)"])
                break
            }
            let moved = await push(moves, until: deadline)
            report.blocks += moved.blocks
            report.bytes += moved.bytes
            report.failed += moved.failed
            guard moved.blocks > 0 else { break }
        }
        report.left = leaving ? store.statistics.blocks - handedOver.withLockedValue { $0.count } : report.failed
        guard report != Report() else { return report }
        let milliseconds = (ContinuousClock.now - started).nanoseconds / 1_000_000
        logger.info(leaving ? "drained" : "rebalanced", metadata: [
            "blocks": "\(report.blocks)", "bytes": "\(report.bytes)", "failed": "\(report.failed)",
            "left": "\(report.left)", "milliseconds": "\(milliseconds)",
        ])
        return report
    }

    private enum Handover {
        case handed(bytes: Int)
        /// Gone meanwhile (taken, deleted or swept): nothing to hand over.
        case vanished
        case failed
    }

    private func push(_ moves: [(BlockStore.Entry, [Peer], Purpose)], until deadline: ContinuousClock.Instant) async -> Report {
        await withTaskGroup(of: Handover.self) { group in
            var report = Report()
            var pending = moves[...]
            // A pass is a drain (every block) or a rebalance (none is).
            let counter = moves.contains { $0.2 == .drain } ? metrics.drained : metrics.rebalanced
            func collect(_ handover: Handover) {
                switch handover {
                case .handed(let bytes):
                    report.blocks += 1
                    report.bytes += bytes
                    counter.increment()
                    if report.blocks % 1000 == 0 {
                        logger.info("moving", metadata: ["moved": "\(report.blocks)", "of": "\(moves.count)"])
                    }
                case .vanished:
                    break
                case .failed:
                    report.failed += 1
                }
            }
            while let (entry, homes, purpose) = pending.popFirst(), ContinuousClock.now < deadline {
                group.addTask { await self.hand(entry.address, to: homes, for: purpose) }
                if moves.count - pending.count >= Self.concurrency, let handover = await group.next() {
                    collect(handover)
                }
            }
            for await handover in group {
                collect(handover)
            }
            return report
        }
    }

    /// Hands one block to its homes: content to every home (done when one
    /// took it), a key slot to the primary.
    private func hand(_ address: BlockAddress, to homes: [Peer], for purpose: Purpose) async -> Handover {
        guard let file = try? store.openStored(address) else { return .vanished }
        defer { file.close() }
        let key = apiKey().map { "apikey=" + QueryParameters.percentEncoded($0) }
        guard file.kind == .content else {
            guard let primary = homes.first else { return .failed }
            do {
                let uri = address.path + "?setifnot=1" + (key.map { "&" + $0 } ?? "")
                let answer = try await client.push(.PUT, uri, body: file, to: primary, refuseChannels: true)
                // 409: the receiver already holds a value there, which is newer.
                guard answer.status == .ok || answer.status == .conflict else { return .failed }
                if answer.status == .conflict {
                    logger.notice("handover-kept-theirs", metadata: ["peer": "\(primary)", "address": "\(address)", "bytes": "\(file.size)"])
                }
                return try await settle(address, handedOver: file, at: primary, apiKey: key)
            } catch {
                logger.debug("handover-failed", metadata: ["peer": "\(primary)", "address": "\(address)", "error": "\(error)"])
                return .failed
            }
        }
        var stored = false
        for home in homes {
            do {
                let answer = try await client.push(.PUT, "/" + (key.map { "?" + $0 } ?? ""), body: file, to: home, refuseChannels: false)
                stored = stored || (answer.status == .ok && answer.text == address.path)
            } catch {
                logger.debug("handover-failed", metadata: ["peer": "\(home)", "address": "\(address)", "error": "\(error)"])
            }
        }
        guard stored else { return .failed }
        switch purpose {
        case .move: _ = try? store.evict(address, ifStill: file)
        case .drain: handedOver.withLockedValue { _ = $0.insert(address) }
        case .copy: break
        }
        return .handed(bytes: file.size)
    }

    /// Removes a slot handed over to `peer` from this pod. Until it is
    /// removed, writes still find it here; each is passed on before trying
    /// again: an append as the appended bytes (`append=1`), a replacement
    /// as the new value, so that neither the receiver's own writes since
    /// nor these are lost.
    private func settle(_ address: BlockAddress, handedOver: BlockFile, at peer: Peer, apiKey key: String?) async throws -> Handover {
        var sent = try handedOver.duplicate()
        defer { sent.close() }
        while true {
            let eviction = try store.evict(address, ifStill: sent)
            guard eviction != .evicted else { return .handed(bytes: sent.size) }
            guard let current = try store.openStored(address) else { continue }
            let (mode, offset) = eviction == .appendedSince ? ("append=1", sent.size) : ("append=0", 0)
            sent.close()
            sent = current
            let answer = try await client.push(
                .PUT, address.path + "?" + mode + (key.map { "&" + $0 } ?? ""), body: current, from: offset, to: peer, refuseChannels: true)
            guard answer.status == .ok else { throw DrainError.notPassedOn(answer.status) }
        }
    }

    enum DrainError: Error {
        case notPassedOn(HTTPResponseStatus)
    }
}
