import ArgumentParser
import Foundation
import TigAddress
import TigClient

/// `--apikey` / `TIG_APIKEY`: the key a server configured with one demands
/// on writes (reads never need it).
struct APIKeyOption: ParsableArguments {
    @Option(help: "API key for writes. Env: TIG_APIKEY.")
    var apikey: String?

    var resolved: String? {
        apikey ?? ProcessInfo.processInfo.environment["TIG_APIKEY"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// How to trust HTTPS servers, as curl spells it.
struct TLSOptions: ParsableArguments {
    @Option(help: "Trust the certificate authorities in this PEM file instead of the system's. Env: SSL_CERT_FILE.")
    var cacert: String?

    @Flag(name: [.customShort("k"), .long], help: "Do not check the server's certificate at all.")
    var insecure = false

    var trust: TLSTrust {
        TLSTrust(
            certificateAuthorities: cacert ?? ProcessInfo.processInfo.environment["SSL_CERT_FILE"].flatMap { $0.isEmpty ? nil : $0 },
            insecure: insecure)
    }
}

/// The options of every command that talks to one server.
struct ClientOptions: ParsableArguments {
    @Option(help: "Server URL (default http://127.0.0.1:7777). Env: TIG_SERVER.")
    var server: String?

    @OptionGroup
    var key: APIKeyOption

    @OptionGroup
    var tls: TLSOptions

    var serverURL: String {
        server ?? ProcessInfo.processInfo.environment["TIG_SERVER"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:7777"
    }

    /// Runs `body` against the server (`path`'s, when it was given as a
    /// full URL); the HTTP client is shut down after.
    func withServer<Result>(for path: BlockPathArgument? = nil, _ body: (BlockServer) async throws -> Result) async throws -> Result {
        try await HTTPSession.run(trust: tls.trust) { http in
            try await body(try BlockServer(url: path?.server ?? serverURL, apikey: key.resolved, http: http))
        }
    }
}

/// A block named on the command line: `/<64 hex>.tig` as tig prints it, the
/// bare `<64 hex>.tig` or `<64 hex>`, or its full URL
/// `http(s)://host[:port]/<64 hex>.tig` (which also names the server).
struct BlockPathArgument: ExpressibleByArgument {
    let address: BlockAddress
    /// The server of a full URL.
    let server: String?

    init?(argument: String) {
        var text = Substring(argument)
        var server: String?
        if text.hasPrefix("http://") || text.hasPrefix("https://") {
            let afterScheme = text.index(text.firstIndex(of: ":") ?? text.startIndex, offsetBy: 3)
            guard let slash = text[afterScheme...].firstIndex(of: "/") else { return nil }
            server = String(text[..<slash])
            text = text[slash...]
        }
        if text.hasPrefix("/") { text = text.dropFirst() }
        if text.hasSuffix(".tig") { text = text.dropLast(4) }
        guard let address = BlockAddress(hex: String(text)) else { return nil }
        self.address = address
        self.server = server
    }
}

/// Writes a line to standard error (progress and summaries never mix with
/// the data on standard output).
func reportOnStandardError(_ line: String) {
    try? Array((line + "\n").utf8).withUnsafeBytes { try OpenFile.standardError.write($0) }
}
