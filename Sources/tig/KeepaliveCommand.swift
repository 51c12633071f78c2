import ArgumentParser
import TigClient
import TigCommandLine

/// `tig keepalive LIST [--once]`: keeps listed trees from being swept.
struct KeepaliveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keepalive",
        abstract: "Reset the retention timers of listed paths and of every block of the trees they name.",
        discussion: """
            LIST holds one block path per line (blank lines and # comments are skipped); it is \
            read again on every pass, so it can be edited while this runs. A pass runs every half \
            --retention until stopped; with --once, one pass (for cron), exiting non-zero when \
            anything listed is missing. Each pass reports on standard error.
            """
    )

    @OptionGroup var client: ClientOptions

    @Argument(help: "The file listing the paths to keep.")
    var list: String

    @Flag(help: "Run one pass and exit.")
    var once = false

    @Option(help: "The server's --retention: passes run every half of it.")
    var retention = DurationArgument(.seconds(600))

    func validate() throws {
        guard retention.duration > .zero else { throw ValidationError("--retention must be positive") }
    }

    func run() async throws {
        try await client.withServer { server in
            let keepAlive = KeepAlive(server: server)
            var pass = 1
            while true {
                let started = ContinuousClock.now
                let paths = try KeepAlive.parseList(try OpenFile.reading(RawPath(list)).readAll(limit: 64 << 20))
                let report = await keepAlive.touch(paths)
                reportOnStandardError("tig keepalive: pass \(pass): touched \(report.touched) blocks for \(paths.count) listed paths")
                for (listed, problem) in report.problems {
                    reportOnStandardError("tig keepalive: \(listed): \(problem)")
                }
                if once {
                    if !report.problems.isEmpty { throw ExitCode.failure }
                    return
                }
                pass += 1
                try await Task.sleep(until: started + retention.duration / 2, clock: .continuous)
            }
        }
    }
}
