import ArgumentParser
import TigClient

/// `tig get PATH [-o FILE]`: one block, verified before anything is written.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Fetch a block and write its bytes.",
        discussion: """
            The bytes must hash to the path; otherwise tig exits non-zero and writes nothing \
            (the download is staged in a temporary file first).
            """
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "The block's path, /<64 hex>.tig.")
    var path: BlockPathArgument

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?

    @Flag(help: "Read a key slot: its value is mutable, so it is not checked against the path.")
    var slot = false

    func run() async throws {
        let staged = try StagedOutput(destination: output.map(RawPath.init))
        let progress = ProgressBar.onTerminal("get")
        try await client.withServer { server in
            try await server.download(path.address, verifying: !slot, into: staged, progress: progress)
        }
        progress?.finish()
        try staged.commit()
    }
}
