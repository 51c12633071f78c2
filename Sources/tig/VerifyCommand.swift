import ArgumentParser
import TigClient

/// `tig verify PATH`: a stored tree checked end to end.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a stored tree end to end: every block present and matching its hash, every size consistent.",
        discussion: "Prints a summary and exits 0 when the tree is whole; exits non-zero at the first problem. (tig get checks a single block.)"
    )

    @OptionGroup var client: ClientOptions
    @OptionGroup var output: JSONOutputOption

    @Argument(help: "The tree's path, as tig push printed it.")
    var path: BlockPathArgument

    func run() async throws {
        let progress = ProgressBar.onTerminal("verify")
        let summary = try await client.withServer(for: path) { server in
            try await TreeVerifier(server: server).verify(path.address, progress: progress)
        }
        progress?.finish()
        try output.print([
            "ok": true, "directories": summary.directories, "files": summary.files, "symlinks": summary.symlinks,
            "bytes": summary.bytes, "blocks": summary.blocks,
        ]) {
            "ok: \(summary.directories) directories, \(summary.files) files, \(summary.symlinks) symlinks, "
                + "\(summary.bytes) bytes in \(summary.blocks) blocks"
        }
    }
}
