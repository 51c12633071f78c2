import ArgumentParser

import Foundation
import TigClient
import TigCommandLine

@main
struct Tig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tig",
        abstract: "A content-addressed, self-cleaning HTTP block store.",
        version: BuildInfo.versionLine,
        subcommands: [ServeCommand.self, PutCommand.self, GetCommand.self, PushCommand.self, PullCommand.self, VerifyCommand.self, LsCommand.self, KeepaliveCommand.self, SplitCommand.self, JoinCommand.self]
    )

    /// ArgumentParser's main, except that a client error exits with its own
    /// status (`TigClientError.exitCode`) after one line on standard error.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let error as TigClientError {
            reportOnStandardError("tig: \(error)")
            Foundation.exit(error.exitCode)
        } catch {
            exit(withError: error)
        }
    }
}
