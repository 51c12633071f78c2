import ArgumentParser
import TigClient

/// `tig ls PATH`: a stored tree's entries.
struct LsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List a stored tree: one line per entry, depth first.",
        discussion: "Lines read `<mode> <size> <path>`; directories end with /, symlinks show -> <target>. Unprintable bytes in names appear as \\xNN."
    )

    @OptionGroup var client: ClientOptions
    @OptionGroup var output: JSONOutputOption

    @Argument(help: "The tree's path, as tig push printed it.")
    var path: BlockPathArgument

    func run() async throws {
        let tree = try await client.withServer(for: path) { server in
            try await StoredTree.fetch(path.address, from: server)
        }
        guard output.json else {
            return TreeListing.lines(of: tree).forEach { print($0) }
        }
        try output.printJSON(["entries": TreeListing.entries(of: tree).map { entry in
            var object: [String: Any] = ["type": entry.kind.rawValue, "mode": entry.mode, "size": entry.size, "path": entry.path]
            object["target"] = entry.target
            return object
        }])
    }
}
