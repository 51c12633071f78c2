import Glibc
import NIOHTTP1
import TigAddress

/// The proof a peer request carries (`peerAuthHeader`): `<unix seconds>
/// <hex HMAC-SHA-256 of "<seconds> <METHOD> <uri>" under the cluster
/// secret>`, or `<seconds> -` when no secret is configured (then only the
/// request's source address can vouch for it; see `PeerNetwork`).
///
/// The time bounds a captured proof's use to `tolerance` either side; the
/// method and URI bind it to one request, so it cannot be moved to another.
public struct PeerCredentials: Sendable {
    public let secret: [UInt8]?

    /// How far a proof's time may be from this pod's clock.
    public static let tolerance: Int64 = 60
    /// The shortest secret accepted: shorter ones can be guessed.
    public static let minimumSecretLength = 16

    public init(secret: [UInt8]?) {
        self.secret = secret
    }

    public var hasSecret: Bool { secret != nil }

    public func proof(method: HTTPMethod, uri: String, at seconds: Int64 = Self.now) -> String {
        guard let secret else { return "\(seconds) -" }
        return "\(seconds) " + Self.hex(HMACSHA256.code(for: Self.message(seconds, method, uri), key: secret))
    }

    /// Whether `proof` is one this pod would have made for the request, at
    /// a time within `tolerance` of now. Without a secret any well-formed
    /// proof passes here: the caller checks the source address.
    public func accepts(_ proof: String, method: HTTPMethod, uri: String, now: Int64 = Self.now) -> Bool {
        let fields = proof.split(separator: " ", omittingEmptySubsequences: false)
        // The seconds are the client's: `now - seconds` is overflow-checked
        // (`-9223372036854775808` trapped, and took the pod down).
        guard fields.count == 2, let seconds = Int64(fields[0]) else { return false }
        let (age, overflow) = now.subtractingReportingOverflow(seconds)
        guard !overflow, age.magnitude <= Self.tolerance.magnitude else { return false }
        guard let secret else { return fields[1] == "-" }
        let expected = HMACSHA256.code(for: Self.message(seconds, method, uri), key: secret)
        return HMACSHA256.equal(Array(Self.hex(expected).utf8), Array(fields[1].utf8))
    }

    public static var now: Int64 {
        Int64(time(nil))
    }

    private static func message(_ seconds: Int64, _ method: HTTPMethod, _ uri: String) -> [UInt8] {
        Array("\(seconds) \(method.rawValue) \(uri)".utf8)
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
