import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import TigAddress
import TigHTTP
import TigStore

/// Hands every block of a stopping pod to the live peers, so what was
/// acknowledged stays readable after the pod is gone.
///
/// Each block goes to the rendezvous winner among the peers (the next one if
/// that fails), so a drain spreads evenly. Content blocks are stored there as
/// content (`PUT /`) and kept here too: they never change, and a peer that
/// found one here a moment ago may still ask for it. Key slots and channel
/// markers are stored with `setifnot`, so a value the receiver already holds
/// (written there since) wins, and removed here, so that later writes find
/// them at their new place; what was written here in between is passed on
/// first (see `settle`).
public final class Drainer: Sendable {
    private let store: BlockStore
    private let directory: PeerDirectory
    private let client: PeerClient
    private let apiKey: @Sendable () -> String?
    private let metrics: ServerMetrics
    private let logger: Logger
    /// Content blocks already handed over (they stay here; later passes skip them).
    private let handedOver = NIOLockedValueBox(Set<BlockAddress>())

    /// Blocks in flight at once.
    static let concurrency = 16

    public init(store: BlockStore, directory: PeerDirectory, client: PeerClient, apiKey: @escaping @Sendable () -> String?, metrics: ServerMetrics, logger: Logger) {
        self.store = store
        self.directory = directory
        self.client = client
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

    /// Drains until the store is empty, no peer is left, or `deadline`.
    /// Passes repeat, so blocks written during a pass go in the next one.
    @discardableResult
    public func drain(until deadline: ContinuousClock.Instant) async -> Report {
        var report = Report()
        let started = ContinuousClock.now
        while ContinuousClock.now < deadline {
            let done = handedOver.withLockedValue { $0 }
            let entries = ((try? store.list()) ?? []).filter { !done.contains($0.address) }
            guard !entries.isEmpty else { break }
            // Peers that drain too would only have to pass the blocks on again.
            let membership = directory.refresh()
            let peers = membership.peers.filter { !membership.draining.contains($0) }
            guard !peers.isEmpty else {
                logger.warning("drain-no-peer", metadata: ["blocks": "\(entries.count)"])
                break
            }
            let pass = await push(entries, to: peers, until: deadline)
            report.blocks += pass.blocks
            report.bytes += pass.bytes
            report.failed += pass.failed
            guard pass.blocks > 0 else { break }
        }
        report.left = store.statistics.blocks - handedOver.withLockedValue { $0.count }
        guard report != Report() else { return report }
        let milliseconds = (ContinuousClock.now - started).nanoseconds / 1_000_000
        logger.info("drained", metadata: [
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

    private func push(_ entries: [BlockStore.Entry], to peers: [Peer], until deadline: ContinuousClock.Instant) async -> Report {
        await withTaskGroup(of: Handover.self) { group in
            var report = Report()
            var pending = entries[...]
            func collect(_ handover: Handover) {
                switch handover {
                case .handed(let bytes):
                    report.blocks += 1
                    report.bytes += bytes
                    metrics.drained.increment()
                    if report.blocks % 1000 == 0 {
                        logger.info("draining", metadata: ["pushed": "\(report.blocks)", "of": "\(entries.count)"])
                    }
                case .vanished:
                    break
                case .failed:
                    report.failed += 1
                }
            }
            while let entry = pending.popFirst(), ContinuousClock.now < deadline {
                group.addTask { await self.hand(entry.address, to: peers) }
                if entries.count - pending.count >= Self.concurrency, let handover = await group.next() {
                    collect(handover)
                }
            }
            for await handover in group {
                collect(handover)
            }
            return report
        }
    }

    /// Pushes one block to the best peer that takes it.
    private func hand(_ address: BlockAddress, to peers: [Peer]) async -> Handover {
        guard let file = try? store.openStored(address) else { return .vanished }
        defer { file.close() }
        let key = apiKey().map { "apikey=" + QueryParameters.percentEncoded($0) }
        for peer in Rendezvous.ranked(peers, for: address) {
            do {
                if file.kind == .content {
                    let answer = try await client.push(.PUT, "/" + (key.map { "?" + $0 } ?? ""), body: file, to: peer, refuseChannels: false)
                    guard answer.status == .ok, answer.text == address.path else { continue }
                    handedOver.withLockedValue { _ = $0.insert(address) }
                } else {
                    let uri = address.path + "?setifnot=1" + (key.map { "&" + $0 } ?? "")
                    let answer = try await client.push(.PUT, uri, body: file, to: peer, refuseChannels: true)
                    // 409: the receiver already holds a value there, which is newer.
                    guard answer.status == .ok || answer.status == .conflict else { continue }
                    return try await settle(address, handedOver: file, at: peer, apiKey: key)
                }
                return .handed(bytes: file.size)
            } catch {
                logger.debug("drain-push-failed", metadata: ["peer": "\(peer)", "address": "\(address)", "error": "\(error)"])
            }
        }
        return .failed
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
