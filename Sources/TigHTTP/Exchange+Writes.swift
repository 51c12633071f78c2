import NIOCore
import NIOHTTP1
import TigAddress
import TigStore

extension Exchange {
    var slotWriteMode: BlockStore.SlotWriteMode {
        if query.setIfNot { return .createOnly }
        if query.append { return .append }
        return .replace
    }

    /// `If-Match` / `If-None-Match: *` of a slot write (see `WriteConditions`).
    var slotPrecondition: BlockStore.SlotPrecondition {
        WriteConditions.precondition(request.head.headers)
    }

    /// `PUT`/`POST /<h>.tig`: a key-slot write. A write-only channel passes it
    /// on to its target; content blocks and other channels refuse it.
    func write(_ address: BlockAddress, body: IncomingBlock) throws {
        switch try store.presence(of: address) {
        case .absent:
            runAtSlot(address, body: body) { [self] in
                createHere(address, body: body)
            }
        case .block:
            try writeHere(address, body: body, answering: address, precondition: slotPrecondition)
        case .channel(.writeOnly(let target)):
            guard !request.refusesChannels else { return writer.fail(.conflict) }
            // The marker is what the request names: it exists and has no
            // tag, so only `If-Match: *` (or no condition) lets it through.
            switch slotPrecondition {
            case .none, .exists: try writeThroughChannel(address, to: target, body: body)
            case .absent, .valueHash: writer.fail(.preconditionFailed)
            }
        case .channel(.readOnly):
            writer.fail(.conflict)
        }
    }

    /// A new key slot is created on its primary home (this pod, or the pod
    /// that forwarded the write found it so), so that concurrent creators on
    /// different pods meet in one place (exactly one `setifnot` wins).
    private func createHere(_ address: BlockAddress, body: IncomingBlock) {
        // A leaving pod creates nothing: a forwarded write finds a slot gone
        // when this pod handed it over after the lookup. 404 (nothing done)
        // sends the forwarding pod to the primary.
        if request.isForwarded && server.readiness.isDraining {
            return writer.fail(.notFound)
        }
        do {
            try writeHere(address, body: body, answering: address, precondition: slotPrecondition)
        } catch {
            writer.fail(error)
        }
    }

    /// Applies the write to this pod's store and answers `answerAddress`
    /// (the channel's own path when writing through a channel, so the answer
    /// never reveals the target). A write through a channel carries no
    /// precondition: the client cannot know the target's tag.
    private func writeHere(
        _ address: BlockAddress, body: IncomingBlock, answering answerAddress: BlockAddress,
        precondition: BlockStore.SlotPrecondition = .none
    ) throws {
        switch try store.writeSlot(address, body: body, mode: slotWriteMode, precondition: precondition) {
        case .stored:
            answerPath(answerAddress)
        case .refusedPrecondition:
            writer.fail(.preconditionFailed)
        case .refusedContent, .refusedChannel, .refusedExists:
            writer.fail(.conflict)
        case .refusedTooLarge:
            writer.fail(.payloadTooLarge)
        }
    }

    /// Writes through a write-only channel to its target, wherever in the
    /// cluster the target lives; the target must not be a channel itself.
    private func writeThroughChannel(_ channel: BlockAddress, to target: BlockAddress, body: IncomingBlock) throws {
        guard !store.holds(target), let network = server.network else {
            return try writeHere(target, body: body, answering: channel)
        }
        network.locate(target, on: eventLoop).assumeIsolated().whenComplete { [self] result in
            let holder: Peer?
            if case .success(let peer?) = result {
                holder = peer
            } else {
                holder = network.placement(of: target).remotePrimary
            }
            guard let holder else {
                do {
                    try writeHere(target, body: body, answering: channel)
                } catch {
                    writer.fail(error)
                }
                return
            }
            // The answer names the channel, never the target.
            let targetWrite = PeerRequest(method: .PUT, uri: peerWriteURI(target), refuseChannels: true, body: body)
            ask(holder, targetWrite, through: network).assumeIsolated().whenComplete { [self] result in
                switch result {
                case .success(let answer) where answer.head.status == .ok: answerPath(channel)
                case .success(let answer): writer.fail(answer.head.status)
                case .failure: writer.fail(.badGateway)
                }
            }
        }
    }

    /// The URI of a write sent to a peer on this request's behalf.
    private func peerWriteURI(_ address: BlockAddress) -> String {
        var uri = address.path + "?"
        switch slotWriteMode {
        case .createOnly: uri += "setifnot=1"
        case .append: uri += "append=1"
        case .replace: uri += "append=0"
        }
        return uri + apiKeyParameter(separator: "&")
    }

    /// The client's API key, passed on to peers that write for it.
    func apiKeyParameter(separator: String) -> String {
        request.apiKey.map { separator + "apikey=" + QueryParameters.percentEncoded($0) } ?? ""
    }

    /// `PUT /`: stores a content block at its homes, and here only when
    /// this pod is one of them. It is acknowledged once every home answered
    /// and at least one stored it; when no home could (all unreachable),
    /// this pod keeps it, and the rebalancer hands it over when a home is
    /// back. A content address is authoritative: storing it replaces a key
    /// slot squatting there.
    func storeContent(_ body: IncomingBlock) throws {
        guard let network = peers else { return answerPath(try store.storeContent(body)) }
        let address = body.address
        let placement = network.placement(of: address)
        if placement.isHome { try store.storeContent(body) }
        let others = placement.remoteHomes
        guard !others.isEmpty else { return answerPath(address) }
        let copies = others.map { home in
            ask(home, PeerRequest(method: .PUT, uri: "/" + apiKeyParameter(separator: "?"), body: body), through: network)
        }
        EventLoopFuture.whenAllComplete(copies, on: eventLoop).assumeIsolated().whenSuccess { [self] results in
            let stored = results.contains { result in
                guard case .success(let answer) = result else { return false }
                return answer.head.status == .ok && answer.text == address.path
            }
            if !stored && !placement.isHome {
                do {
                    try store.storeContent(body)
                } catch {
                    return writer.fail(error)
                }
            }
            answerPath(address)
        }
    }

    /// `DELETE /<h>.tig`: deletes a key slot; content blocks and channels
    /// cannot be deleted.
    func delete(_ address: BlockAddress) throws {
        switch try store.deleteSlot(address) {
        case .deleted:
            answerPath(address)
        case .refused:
            writer.fail(.conflict)
        case .absent:
            runAtSlot(address, body: nil) { self.writer.fail(.notFound) }
        }
    }
}
