import ArgumentParser
import TigClient
import TigCommandLine

/// `tig push DIR`: a directory tree as one path.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Store a directory tree and print the one path that names it.",
        discussion: """
            Files are cut into content-defined chunks; each directory becomes a manifest block. \
            Blocks the server already holds (a HEAD finds them) are not uploaded again. A HEAD \
            does not reset retention timers: tig keepalive keeps a tree past the retention period.
            """
    )

    @OptionGroup var client: ClientOptions
    @OptionGroup var output: JSONOutputOption

    @Argument(help: "The directory.")
    var directory: String

    @Option(help: "Average chunk size, a power of two from 256 bytes to 16 MiB. Other sizes cut differently, so they share fewer chunks with earlier pushes.")
    var chunkSize = ByteSizeArgument(bytes: ChunkingParameters.default.averageSize)

    @Flag(help: "Report on standard error how many blocks and bytes were uploaded.")
    var stats = false

    func run() async throws {
        let chunker = Chunker(try ChunkingParameters(averageSize: chunkSize.bytes))
        let progress = ProgressBar.onTerminal("push")
        let (root, statistics) = try await client.withServer { server in
            try await TreePusher(server: server, chunker: chunker).push(RawPath(directory), progress: progress)
        }
        progress?.finish()
        try output.print([
            "path": root.path, "blocks": statistics.blocks, "uploaded_blocks": statistics.uploadedBlocks,
            "uploaded_bytes": statistics.uploadedBytes, "present_blocks": statistics.presentBlocks, "present_bytes": statistics.presentBytes,
        ]) { root.path }
        if stats {
            reportOnStandardError(
                "tig push: \(statistics.blocks) blocks, \(statistics.uploadedBlocks) uploaded (\(statistics.uploadedBytes) bytes), "
                    + "\(statistics.presentBlocks) already stored (\(statistics.presentBytes) bytes)"
            )
        }
    }
}
