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

/// The options of every command that talks to one server.
struct ClientOptions: ParsableArguments {
    @Option(help: "Server URL (default http://127.0.0.1:7777). Env: TIG_SERVER.")
    var server: String?

    @OptionGroup
    var key: APIKeyOption

    var serverURL: String {
        server ?? ProcessInfo.processInfo.environment["TIG_SERVER"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:7777"
    }

    /// Runs `body` against the server; the HTTP client is shut down after.
    func withServer<Result>(_ body: (BlockServer) async throws -> Result) async throws -> Result {
        try await HTTPSession.run { http in
            try await body(try BlockServer(url: serverURL, apikey: key.resolved, http: http))
        }
    }
}

/// A block named on the command line: `/<64 hex>.tig` as tig prints it, or
/// the bare `<64 hex>.tig` or `<64 hex>`.
struct BlockPathArgument: ExpressibleByArgument {
    let address: BlockAddress

    init?(argument: String) {
        var text = Substring(argument)
        if text.hasPrefix("/") { text = text.dropFirst() }
        if text.hasSuffix(".tig") { text = text.dropLast(4) }
        guard let address = BlockAddress(hex: String(text)) else { return nil }
        self.address = address
    }
}

/// Writes a line to standard error (progress and summaries never mix with
/// the data on standard output).
func reportOnStandardError(_ line: String) {
    try? Array((line + "\n").utf8).withUnsafeBytes { try OpenFile.standardError.write($0) }
}
