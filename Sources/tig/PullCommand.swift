import ArgumentParser
import TigClient

/// `tig pull PATH DIR`: a stored tree restored on disk.
struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Restore a stored tree into a directory, verifying every block.",
        discussion: """
            DIR must not exist or be empty. The tree is built next to it and renamed into place \
            only when complete and verified, so a failure leaves nothing behind. Names, contents, \
            executable bits and symlinks are restored; times and owners are not recorded.
            """
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "The tree's path, as tig push printed it.")
    var path: BlockPathArgument

    @Argument(help: "The directory to create.")
    var directory: String

    func run() async throws {
        let progress = ProgressBar.onTerminal("pull")
        try await client.withServer(for: path) { server in
            try await TreePuller(server: server).pull(path.address, into: RawPath(directory), progress: progress)
        }
        progress?.finish()
    }
}
