import ArgumentParser

@main
struct Tig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tig",
        abstract: "A content-addressed, self-cleaning HTTP block store.",
        subcommands: [ServeCommand.self]
    )
}
