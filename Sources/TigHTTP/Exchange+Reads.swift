import NIOCore
import NIOPosix
import NIOHTTP1
import TigAddress
import TigStore

extension Exchange {
    var contentType: String {
        query.contentType ?? "application/octet-stream"
    }

    /// A Bazel CAS read: only bytes that hash to the address are answered
    /// (a key slot or channel marker squatting there is not content).
    var onlyContent: Bool {
        request.target.bazel == .contentStore
    }

    /// `GET /<h>.tig`, with `take`, `burst` and channels.
    func read(_ address: BlockAddress) throws {
        if query.take {
            switch try store.take(address, touch: query.touch) {
            case .absent: runAtSlot(address, body: nil) { self.writer.fail(.notFound) }
            case .taken(let block): writer.send(block, contentType: contentType)
            // A channel grants no right to delete what it points at.
            case .channel: writer.fail(.forbidden)
            }
            return
        }
        switch try store.open(address, touch: query.touch) {
        case .absent:
            if let hot = hotBlock(address) {
                return try deliver(StoredBlock(kind: .content, bytes: .memory(hot)), at: address)
            }
            readFromCluster(address) { self.writer.fail(.notFound) }
        case .block(let block) where onlyContent && block.kind != .content:
            block.close()
            writer.fail(.notFound)
        case .block(let block):
            try deliver(block, at: address)
        case .channel where onlyContent:
            writer.fail(.notFound)
        case .channel(.writeOnly):
            writer.fail(.forbidden)
        case .channel(.readOnly(let target)):
            guard !request.refusesChannels else { return writer.fail(.forbidden) }
            try readChannelTarget(target)
        }
    }

    /// Slots larger than this have their tag (the SHA-256 of the value)
    /// computed off the event loop: hashing 128 MiB takes some 80 ms, which
    /// every other connection on the loop would wait through.
    static let largeSlotHashing = 256 * 1024

    private func deliver(_ block: StoredBlock, at address: BlockAddress) throws {
        guard !query.burst else { return try burst(list: block) }
        guard block.kind == .slot else { return deliver(block, at: address, valueHash: nil) }
        guard block.size > Self.largeSlotHashing else { return deliver(block, at: address, valueHash: try block.valueHash()) }
        NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) { try block.valueHash() }
            .assumeIsolated().whenComplete { [self] result in
                switch result {
                case .success(let hash):
                    deliver(block, at: address, valueHash: hash)
                case .failure(let error):
                    block.close()
                    writer.fail(error)
                }
            }
    }

    private func deliver(_ block: StoredBlock, at address: BlockAddress, valueHash: BlockAddress?) {
        let validators = validators(of: block.kind, at: address, valueHash: valueHash)
        switch ReadConditions(request.head.headers).outcome(for: validators, size: block.size, isGET: true) {
        case .whole:
            writer.send(block, contentType: contentType, validators: validators)
        case .part(let part):
            writer.send(block, contentType: contentType, validators: validators, part: part)
        case .notModified:
            block.close()
            writer.notModified(validators)
        case .unsatisfiable:
            block.close()
            writer.rangeNotSatisfiable(size: block.size)
        }
    }

    private func validators(of kind: BlockKind, at address: BlockAddress, valueHash: BlockAddress? = nil) -> ReadValidators {
        ReadValidators(kind: kind, address: address, valueHash: valueHash, retentionSeconds: store.policy.retention / 1_000_000_000)
    }

    /// A read-only channel answers its target's value. The target is read
    /// one hop deep: a channel there is refused, never followed.
    private func readChannelTarget(_ target: BlockAddress) throws {
        switch try store.open(target, touch: query.touch) {
        case .block(let block):
            try deliver(block, at: target)
        case .channel:
            writer.fail(.forbidden)
        case .absent:
            guard let network = server.network else { return writer.fail(.notFound) }
            network.locate(target, on: eventLoop).assumeIsolated().whenComplete { [self] result in
                guard case .success(let peer?) = result else { return writer.fail(.notFound) }
                let targetRequest = PeerRequest(method: .GET, uri: peerReadURI(target, burst: query.burst), refuseChannels: true)
                network.send(targetRequest, to: peer, on: eventLoop, sink: RelaySink(writer: writer, metrics: server.metrics, contentType: contentType))
            }
        }
    }

    /// The URI of a read sent to a peer on this request's behalf.
    func peerReadURI(_ address: BlockAddress, burst: Bool = false) -> String {
        address.path + "?chtimes=" + (query.touch ? "1" : "0") + (burst ? "&burst=1" : "")
    }

    /// `HEAD /<h>.tig`: 200 when the address holds anything, with the length
    /// of blocks and slots. Channels are not followed, so HEAD cannot probe
    /// a channel's target.
    func describe(_ address: BlockAddress) throws {
        switch try store.presence(of: address) {
        case .absent:
            if let hot = hotBlock(address) { return describe(address, kind: .content, size: hot.count) }
            readFromCluster(address) { self.writer.fail(.notFound) }
        case .block(let kind, _) where onlyContent && kind != .content:
            writer.fail(.notFound)
        case .block(let kind, let size):
            describe(address, kind: kind, size: size)
        case .channel where onlyContent:
            writer.fail(.notFound)
        case .channel:
            guard !request.refusesChannels else { return writer.fail(.forbidden) }
            writer.answerHead(contentLength: nil, kind: BlockKindName.channel)
        }
    }

    private func describe(_ address: BlockAddress, kind: BlockKind, size: Int) {
        let validators = validators(of: kind, at: address)
        if ReadConditions(request.head.headers).outcome(for: validators, size: size, isGET: false) == .notModified {
            return writer.notModified(validators)
        }
        writer.answerHead(contentLength: size, kind: kind == .content ? BlockKindName.content : BlockKindName.slot, validators: validators)
    }

    /// A content block homed elsewhere that this pod relayed recently (the
    /// hot cache): answered here, with no hop.
    private func hotBlock(_ address: BlockAddress) -> [UInt8]? {
        guard let bytes = peers?.hotBlocks?.block(address, now: .now) else { return nil }
        server.metrics.hotCacheHits.increment()
        return bytes
    }

    /// Where the relayed answer to this read may be kept for the next one:
    /// a plain GET of the whole block, or a part of a burst, that resets the
    /// block's timer at its home.
    func hotFill(for address: BlockAddress, burstPart: Bool = false) -> HotFill? {
        guard query.touch, let cache = peers?.hotBlocks else { return nil }
        if !burstPart {
            guard request.method == .GET, !query.burst, !query.take, request.head.headers["range"].isEmpty else { return nil }
        }
        return HotFill(address: address, cache: cache)
    }
}
