import ArgumentParser

@main
struct Tig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tig",
        abstract: "A content-addressed, self-cleaning HTTP block store.",
        subcommands: [ServeCommand.self, PutCommand.self, GetCommand.self, PushCommand.self, PullCommand.self, VerifyCommand.self, LsCommand.self, KeepaliveCommand.self, SplitCommand.self, JoinCommand.self]
    )
}
