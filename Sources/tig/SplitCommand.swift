import ArgumentParser
import TigClient

/// `tig split --xor URL1 URL2 [URLn…] FILE`: a file as XOR shares on several servers.
struct SplitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Split a file into XOR shares, one per server, and print the descriptor tig join needs.",
        discussion: """
            Every server but one receives uniformly random pads, the last the file XOR all pads: \
            any set of fewer than all shares is random noise. The descriptor names each share \
            and the file's SHA-256 and size; keep it as private as the file.
            """
    )

    @Flag(help: "Split by XOR (the only method).")
    var xor = false

    @Argument(help: "Two or more server URLs, then the file (or - for standard input).")
    var serversAndFile: [String] = []

    @OptionGroup var key: APIKeyOption

    @OptionGroup var tls: TLSOptions

    func validate() throws {
        guard xor else { throw ValidationError("say --xor: XOR is the only split method") }
        guard serversAndFile.count >= 3 else { throw ValidationError("give at least two server URLs and the file") }
    }

    func run() async throws {
        let urls = serversAndFile.dropLast()
        let file = serversAndFile.last ?? "-"
        let source = file == "-" ? OpenFile.standardInput : try OpenFile.reading(RawPath(file))
        let progress = ProgressBar.onTerminal("split")
        let descriptor = try await HTTPSession.run(trust: tls.trust) { http in
            let servers = try urls.map { try BlockServer(url: $0, apikey: key.resolved, http: http) }
            return try await XorSplitter(servers: servers).split(source, progress: progress)
        }
        progress?.finish()
        print(descriptor.encoded, terminator: "")
    }
}
