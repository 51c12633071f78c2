import NIOHTTP1

/// A parsed request head that tig accepted.
struct TigRequest {
    let head: HTTPRequestHead
    let target: RequestTarget
    /// A peer sent it: it is answered from this pod only.
    let isForwarded: Bool
    /// A peer asks for a channel's target, or a Bazel client for a cache
    /// entry: a channel here is refused.
    let refusesChannels: Bool
    /// A peer gathers listings: answer times with the paths.
    let listsTimes: Bool
    /// The client's IP address (an announcing peer must be who it says).
    let remoteIP: String?
    /// The API key presented, in the query or the `Authorization` header.
    let apiKey: String?

    var method: HTTPMethod { head.method }
    var route: Route { target.route }
    var query: QueryParameters { target.query }

    /// Writes stream their body into the store as it arrives.
    var expectsBody: Bool {
        method == .PUT || method == .POST
    }
}

/// How a request head frames its body (RFC 9112 §6), checked before
/// anything else: a head whose framing tig does not understand is refused and
/// the connection closed, since where its body ends is unknown.
struct BodyFraming {
    /// The declared `Content-Length`, nil when chunked or absent.
    let declaredLength: UInt64?
    let isChunked: Bool

    var hasBody: Bool { isChunked || (declaredLength ?? 0) > 0 }

    init(_ headers: HTTPHeaders) throws(HTTPFailure) {
        // `contains` first: most requests have neither header, and the
        // canonical (comma-split) form is costly to build.
        if headers.contains(name: "transfer-encoding") {
            let codings = headers[canonicalForm: "transfer-encoding"]
            // Only plain `chunked`: any other coding (`gzip, chunked`,
            // `identity`) would store bytes other than the ones sent.
            guard codings.count == 1, codings[0].lowercased() == "chunked" else {
                throw HTTPFailure(.notImplemented, closesConnection: true)
            }
            isChunked = true
            declaredLength = nil
            return
        }
        isChunked = false
        guard headers.contains(name: "content-length") else {
            declaredLength = nil
            return
        }
        let lengths = headers[canonicalForm: "content-length"]
        guard let first = lengths.first else {
            declaredLength = nil
            return
        }
        guard lengths.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw HTTPFailure(.badRequest, closesConnection: true)
        }
        // Digits beyond UInt64 are a length no store can take.
        declaredLength = UInt64(first) ?? .max
    }
}
