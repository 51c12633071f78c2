import ArgumentParser
import TigClient

/// `tig join DESCRIPTOR -o FILE`: a file rebuilt from its XOR shares.
struct JoinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Rebuild a file from the XOR shares a descriptor of tig split names.",
        discussion: """
            Every share is needed. Each piece is verified against its hash and the result against \
            the descriptor's SHA-256 before anything is written; a missing or wrong share is an error.
            """
    )

    @Argument(help: "The descriptor tig split printed (- for standard input).")
    var descriptor: String

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?

    @OptionGroup var tls: TLSOptions

    func run() async throws {
        let source = descriptor == "-" ? OpenFile.standardInput : try OpenFile.reading(RawPath(descriptor))
        let shares = try ShareDescriptor(decoding: try source.readAll(limit: 1 << 20))
        let staged = try StagedOutput(destination: output.map(RawPath.init))
        let progress = ProgressBar.onTerminal("join")
        try await HTTPSession.run(trust: tls.trust) { http in
            try await XorJoiner(shares, http: http).join(into: staged, progress: progress)
        }
        progress?.finish()
        try staged.commit()
    }
}
