import ArgumentParser
import Foundation
import Logging
import TigCommandLine
import TigOperator

/// `tig-operator`: the Mitosis operator (SPEC §6.4, flags in DESIGN.md).
@main
struct TigOperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tig-operator",
        abstract: "Scale a tig Deployment with the Mitosis algorithm: overworked pods divide, expired pods retire.",
        version: BuildInfo.versionLine)

    @Option(help: "Config file (YAML). Env: TIG_OPERATOR_CONFIG. (default: /etc/tig-operator/config.yaml)")
    var config: String?

    @Option(help: "Kubeconfig file for running outside a cluster. Env: KUBECONFIG. (default: in-cluster service account)")
    var kubeconfig: String?

    @Option(help: "HOST:PORT for /metrics and /healthz.")
    var listen = "0.0.0.0:8080"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Log lines as logfmt or json.")
    var logFormat: LogFormat = .logfmt

    @Option(help: "How long a leader's Lease lasts without renewal. (default: 15s)", transform: durationOption)
    var leaseDuration = Duration.seconds(15)

    @Option(
        help: "A leader that cannot renew for this long stops acting; less than --lease-duration. (default: 10s)",
        transform: durationOption)
    var renewDeadline = Duration.seconds(10)

    @Option(help: "How often the Lease is renewed or tried. (default: 2s)", transform: durationOption)
    var retryPeriod = Duration.seconds(2)

    func validate() throws {
        guard leaseDuration >= .seconds(1), renewDeadline < leaseDuration, retryPeriod < renewDeadline else {
            throw ValidationError("need --retry-period < --renew-deadline < --lease-duration, and --lease-duration ≥ 1s")
        }
        guard HostPort.parse(listen).map({ !$0.host.isEmpty }) == true else {
            throw ValidationError("--listen must be HOST:PORT, got \(listen)")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrapEventLines(level: logLevel, format: logFormat)
        let logger = Logger(label: "tig-operator")
        let environment = ProcessInfo.processInfo.environment
        guard let (host, port) = HostPort.parse(listen) else { throw ExitCode.failure }
        let options = OperatorOptions(
            configPath: config ?? environment["TIG_OPERATOR_CONFIG"] ?? "/etc/tig-operator/config.yaml",
            kubeconfig: kubeconfig ?? environment["KUBECONFIG"].flatMap { $0.isEmpty ? nil : $0 },
            listenHost: host, listenPort: port,
            leaderTiming: LeaderElector.Timing(leaseDuration: leaseDuration, renewDeadline: renewDeadline, retryPeriod: retryPeriod),
            identity: environment["POD_NAME"] ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())",
            leaseNamespace: environment["POD_NAMESPACE"])
        do {
            try await OperatorRuntime.run(options, logger: logger)
        } catch {
            logger.critical("startup-failed", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
    }
}

private func durationOption(_ text: String) throws -> Duration {
    guard let duration = DurationText.parse(text), duration > .zero else {
        throw ValidationError("expected a positive duration such as 500ms, 2s or 1m, got \(text)")
    }
    return duration
}
