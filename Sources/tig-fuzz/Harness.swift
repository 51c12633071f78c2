import Foundation
import NIOHTTP1
import TigAddress
import TigHTTP
import TigStore

/// One input through every request-facing parser of the front.
///
/// The whole input is what a client controls in one place: a request target,
/// a burst list's body, an `Authorization` header, a `Content-Type`
/// parameter. Split at NUL bytes it also fills the parsers that take several
/// client-controlled values: `<proof or query key> NUL <method or
/// Authorization> NUL <uri> NUL <secret>`.
///
/// Besides "does not crash", a few properties are checked (a broken one
/// traps, which the fuzzer reports like a crash): parsed addresses spell
/// the bytes they came from, percent-encoding round-trips through the query
/// parser, the query key wins over the header, a Basic password round-trips,
/// and a proof this pod makes is accepted exactly within the tolerance.
enum Harness {
    /// A fixed clock for the proofs, so a finding replays the same way.
    static let now: Int64 = 1_700_000_000
    static let secret = Array("fuzzing-cluster-secret-0123456789".utf8)

    static func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        requestTarget(text)
        blockAddress(bytes, text)
        burstList(bytes)
        query(text)
        mediaType(text)
        _ = APIKeyAuthority.presentedKey(query: nil, authorization: text)

        let fields = bytes.split(separator: 0, maxSplits: 3, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        func field(_ index: Int) -> String { index < fields.count ? fields[index] : "" }
        presentedKey(field(0), field(1))
        peerProof(field(0), method: field(1), uri: field(2), secret: field(3))
        readConditions(range: field(0), ifNoneMatch: field(1), ifRange: field(2), size: bytes.count)
        redaction(text)
        writeConditions(ifMatch: field(0), ifNoneMatch: field(1))
    }

    static func writeConditions(ifMatch: String, ifNoneMatch: String) {
        _ = WriteConditions.precondition(HTTPHeaders([("If-Match", ifMatch), ("If-None-Match", ifNoneMatch)]))
        _ = WriteConditions.precondition(HTTPHeaders([("If-None-Match", ifNoneMatch)]))
        let address = SHA256Hasher.address(of: Array(ifMatch.utf8))
        check(WriteConditions.precondition(HTTPHeaders([("If-Match", "W/\"x\", \"\(address.hex)\"")])) == .valueHash(in: [address]),
              "a strong tag names the hash it spells")
    }

    static func readConditions(range: String, ifNoneMatch: String, ifRange: String, size: Int) {
        let validators = ReadValidators(kind: .content, address: BlockAddress(words: (1, 2, 3, 4)), retentionSeconds: 600)
        for headers in [[("Range", range)], [("Range", range), ("If-Range", ifRange), ("If-None-Match", ifNoneMatch)]] {
            for size in [0, 1, size, Int.max] {
                switch ReadConditions(HTTPHeaders(headers)).outcome(for: validators, size: size, isGET: true) {
                case .part(let part):
                    check(!part.isEmpty && part.lowerBound >= 0 && part.upperBound <= size, "a part lies within the body")
                case .notModified:
                    check(headers.count > 1, "only If-None-Match answers 304")
                case .whole, .unsatisfiable:
                    break
                }
            }
        }
    }

    /// A key in the query never survives redaction, however it is spelled.
    static func redaction(_ uri: String) {
        let redacted = QueryParameters.redacted(uri)
        guard let question = uri.firstIndex(of: "?"), QueryParameters(parsing: uri[uri.index(after: question)...]).apiKey != nil,
              let kept = redacted.firstIndex(of: "?")
        else { return }
        check(QueryParameters(parsing: redacted[redacted.index(after: kept)...]).apiKey == "REDACTED", "the key is redacted")
    }

    static func requestTarget(_ uri: String) {
        guard let target = try? RequestTarget(parsing: uri) else { return }
        let path = uri.utf8.prefix { $0 != UInt8(ascii: "?") }
        if case .block(let address) = target.route {
            check(address.path.utf8.elementsEqual(path), "a block route spells its path")
        }
        _ = formatted(BlockAddress(words: (1, 2, 3, 4)).path, with: target.query.format)
        if let contentType = target.query.contentType { _ = MediaType.isValid(contentType) }
    }

    static func blockAddress(_ bytes: [UInt8], _ text: String) {
        let fromBytes = BlockAddress(path: bytes)
        if let fromBytes {
            check(fromBytes.path.utf8.elementsEqual(bytes), "an address spells the path it was parsed from")
            check(BlockAddress(hex: fromBytes.hex) == fromBytes, "an address's hex parses back to it")
        }
        if text.utf8.elementsEqual(bytes) {
            check(BlockAddress(path: text) == fromBytes, "String and byte parsing agree")
        }
        _ = BlockAddress(hex: bytes)
        _ = BlockAddress(fileName: bytes)
    }

    static func burstList(_ bytes: [UInt8]) {
        guard let addresses = BurstList.addresses(in: bytes) else { return }
        let lines = bytes.split(separator: UInt8(ascii: "\n"))
            .map { $0.last == UInt8(ascii: "\r") ? $0.dropLast() : $0 }
            .filter { !$0.isEmpty }
        check(addresses.count == lines.count, "one address per non-empty line")
        for (address, line) in zip(addresses, lines) {
            check(address.path.utf8.elementsEqual(line), "each address spells its line")
        }
    }

    static func query(_ text: String) {
        _ = QueryParameters(parsing: Substring(text))
        let encoded = QueryParameters.percentEncoded(text)
        let decoded = QueryParameters(parsing: Substring("format=" + encoded + "&apikey=" + encoded))
        check(decoded.format == text && decoded.apiKey == text, "percent-encoding round-trips")
    }

    static func mediaType(_ text: String) {
        guard MediaType.isValid(text) else { return }
        check(!text.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }, "a valid media type cannot break a header")
    }

    static func presentedKey(_ key: String, _ authorization: String) {
        check(APIKeyAuthority.presentedKey(query: key, authorization: authorization) == key, "the query key wins")
        _ = APIKeyAuthority.presentedKey(query: nil, authorization: authorization)
        _ = APIKeyAuthority.presentedKey(query: nil, authorization: "Bearer " + key)
        let basic = "Basic " + Data(("tig:" + key).utf8).base64EncodedString()
        check(APIKeyAuthority.presentedKey(query: nil, authorization: basic) == key, "a Basic password round-trips")
    }

    static func peerProof(_ proof: String, method: String, uri: String, secret: String) {
        let method = HTTPMethod(rawValue: method)
        var secrets: [[UInt8]?] = [nil, Self.secret]
        if secret.utf8.count >= PeerCredentials.minimumSecretLength { secrets.append(Array(secret.utf8)) }
        for secret in secrets {
            let credentials = PeerCredentials(secret: secret)
            _ = credentials.accepts(proof, method: method, uri: uri, now: now)
            _ = credentials.accepts(proof, method: method, uri: uri)
            check(credentials.accepts(credentials.proof(method: method, uri: uri, at: now), method: method, uri: uri, now: now),
                  "a pod accepts its own proof")
            // A proof made at a time the input names: accepted exactly within the tolerance.
            guard let seconds = Int64(proof.prefix { $0 != " " }) else { continue }
            let made = credentials.proof(method: method, uri: uri, at: seconds)
            let (difference, overflow) = now.subtractingReportingOverflow(seconds)
            let within = !overflow && difference.magnitude <= PeerCredentials.tolerance.magnitude
            check(credentials.accepts(made, method: method, uri: uri, now: now) == within, "the tolerance bounds a proof")
        }
    }

    static func check(_ condition: Bool, _ property: StaticString) {
        if !condition { fatalError("property broken: \(property)") }
    }
}
