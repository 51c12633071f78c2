import ArgumentParser
import TigClient

/// `tig put FILE|-`: one file as one block.
struct PutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Store a file as one block and print its path.",
        discussion: """
            The path is /<sha256 of the file>.tig; the server's answer is checked against it. \
            A file larger than the server's --max-block-size (128 MiB by default) is refused: \
            tig push stores any size in chunks.
            """
    )

    @OptionGroup var client: ClientOptions
    @OptionGroup var output: JSONOutputOption

    @Argument(help: "The file, or - for standard input.")
    var file: String

    func run() async throws {
        let source = file == "-" ? try OpenFile.spooling(.standardInput) : try OpenFile.reading(RawPath(file))
        let progress = ProgressBar.onTerminal("put")
        let (address, base) = try await client.withServer { server in
            (try await server.put(file: source, progress: progress), server.url)
        }
        progress?.finish()
        try output.print(["path": address.path, "url": base + address.path]) { address.path }
    }
}
