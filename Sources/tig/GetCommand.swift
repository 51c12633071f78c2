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

    @Option(help: "Only these bytes: a-b (both included), a- (to the end) or -n (the last n; spell it --range=-n). A part of one block cannot be checked against its path; a part of a file in a tree (--file) is, chunk by chunk.")
    var range: ByteRangeArgument?

    @Option(help: "PATH is a tree (as tig push printed it): read this file in it, e.g. dir/name, fetching only the chunks --range covers.")
    var file: String?

    func validate() throws {
        if file != nil && slot { throw ValidationError("--file reads a tree, which is content, not a key slot") }
    }

    func run() async throws {
        let staged = try StagedOutput(destination: output.map(RawPath.init))
        let progress = range == nil && file == nil ? ProgressBar.onTerminal("get") : nil
        try await client.withServer(for: path) { server in
            if let file {
                let components = file.split(separator: "/").map { Array($0.utf8) }
                try await TreeFileRange(server: server).read(
                    components, in: path.address, range: range?.range ?? .from(0, through: nil), into: staged)
            } else if let range {
                try await server.download(path.address, range: range.range, verifying: !slot, into: staged)
            } else {
                try await server.download(path.address, verifying: !slot, into: staged, progress: progress)
            }
        }
        progress?.finish()
        try staged.commit()
    }
}

/// `--range a-b`, `a-` or `-n`.
struct ByteRangeArgument: ExpressibleByArgument {
    let range: ByteRange

    init?(argument: String) {
        guard let range = ByteRange(argument) else { return nil }
        self.range = range
    }
}
