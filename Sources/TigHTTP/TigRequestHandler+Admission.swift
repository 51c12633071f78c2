import NIOHTTP1

extension TigRequestHandler {
    /// Methods tig serves on some route.
    private static let servedMethods: [HTTPMethod] = [.GET, .HEAD, .PUT, .POST, .DELETE]
    /// Methods tig knows and refuses everywhere (405); any other is not
    /// implemented (501). `CONNECT` would turn the connection into a tunnel,
    /// so its connection closes.
    private static let refusedMethods: [HTTPMethod] = [.CONNECT, .TRACE, .OPTIONS, .PATCH]

    /// Checks everything that can be checked from the head alone, so a bad
    /// write is refused before its body is read.
    func admit(_ head: HTTPRequestHead, framing: BodyFraming, remoteIP: String?) throws(HTTPFailure) -> TigRequest {
        guard Self.servedMethods.contains(head.method) else {
            if Self.refusedMethods.contains(head.method) {
                throw HTTPFailure(.methodNotAllowed, closesConnection: head.method == .CONNECT || framing.hasBody)
            }
            throw HTTPFailure(.notImplemented, closesConnection: true)
        }
        // RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host is 400.
        // (`headers[name]`, not the comma-splitting canonical form, which
        // costs more than a small GET's whole routing; an empty Host, or one
        // with a comma, is no host either.)
        if head.version == .http1_1, case let hosts = head.headers["host"], hosts.count != 1 || hosts[0].isEmpty || hosts[0].utf8.contains(UInt8(ascii: ",")) {
            throw HTTPFailure(.badRequest, closesConnection: framing.hasBody)
        }
        if let length = framing.declaredLength, length > UInt64(server.limits.maxBlockSize) {
            throw HTTPFailure(.payloadTooLarge, closesConnection: true)
        }
        guard head.uri.utf8.count <= RequestTarget.maximumLength else { throw HTTPFailure(.uriTooLong) }
        let target: RequestTarget
        do {
            target = try RequestTarget(parsing: head.uri)
        } catch .badForm {
            throw HTTPFailure(.badRequest)
        } catch {
            throw HTTPFailure(.notFound)
        }
        // Internal headers count only on a member's request: a client that
        // sends them is answered as any client. Peers never use the admin port.
        let fromPeer = listener == .blocks && (server.network?.isPeerRequest(head, from: remoteIP) ?? false)
        let kind: Listener.HTTPMethodKind = head.method == .GET || head.method == .HEAD ? .read : .write
        guard listener.serves(target.route, method: kind, fromPeer: fromPeer) else { throw HTTPFailure(.notFound) }
        let request = TigRequest(
            head: head, target: target,
            isForwarded: fromPeer,
            // A cache entry is opaque bytes: never followed as a channel, also
            // where a marker was planted at its (computable) address.
            refusesChannels: fromPeer && head.headers.contains(name: noChannelHeader) || target.bazel != nil,
            listsTimes: fromPeer && head.headers.contains(name: listTimesHeader),
            remoteIP: remoteIP,
            apiKey: APIKeyAuthority.presentedKey(query: target.query.apiKey, authorization: head.headers.first(name: "authorization")))
        switch (request.route, request.method) {
        case (.healthz, .GET), (.healthz, .HEAD), (.readyz, .GET), (.readyz, .HEAD), (.metrics, .GET), (.metrics, .HEAD):
            return request
        case (.store, .GET):
            return request
        case (.block, .GET), (.block, .HEAD):
            if request.query.take && request.query.burst { throw HTTPFailure(.badRequest) }
            // `take` deletes: a mutation, so it needs the key like a write.
            if request.query.take, !server.authority.mayWrite(presenting: request.apiKey) {
                throw HTTPFailure(.unauthorized)
            }
            if let contentType = request.query.contentType, !MediaType.isValid(contentType) {
                throw HTTPFailure(.badRequest)
            }
            return request
        case (.block, .DELETE) where request.target.bazel != nil:
            // A remote cache is only read and written; entries expire.
            throw HTTPFailure(.methodNotAllowed)
        case (.store, .PUT), (.store, .POST), (.block, .PUT), (.block, .POST), (.block, .DELETE):
            guard server.authority.mayWrite(presenting: request.apiKey) else { throw HTTPFailure(.unauthorized) }
            if request.query.setIfNot && request.query.append { throw HTTPFailure(.badRequest) }
            return request
        default:
            throw HTTPFailure(.methodNotAllowed)
        }
    }
}
