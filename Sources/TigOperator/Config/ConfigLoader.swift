import Foundation
import KubeClient
import TigCommandLine

/// Reads the operator's YAML config strictly: every mistake is refused at
/// start with the line and column where it is, because a typo that silently
/// falls back to a default would scale a production Deployment wrongly.
public enum ConfigLoader {
    public static func load(path: String) throws -> OperatorConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigFileError(description: "cannot read config \(path): \(error.localizedDescription)")
        }
        do {
            return try parse(text)
        } catch {
            throw ConfigFileError(description: "\(path): \(error)")
        }
    }

    /// Keys absent from the file keep their defaults.
    public static func parse(_ text: String) throws(YAMLError) -> OperatorConfig {
        let start = YAMLMark(line: 1, column: 1)
        guard let root = try YAMLLoader.load(text) else {
            throw YAMLError("the config is empty; expected a mapping of settings", at: start)
        }
        guard case .mapping(let pairs) = root.value else {
            throw YAMLError("expected a mapping of settings, got \(root.kindDescription)", at: root.mark)
        }

        var config = OperatorConfig()
        var seen: [String: YAMLMark] = [:]
        for pair in pairs {
            guard case .scalar(let key, _) = pair.key.value else {
                throw YAMLError("expected a setting name, got \(pair.key.kindDescription)", at: pair.key.mark)
            }
            if let first = seen[key] {
                throw YAMLError("duplicate key \"\(key)\" (first set at line \(first.line))", at: pair.key.mark)
            }
            guard let setting = settings[key] else {
                let known = settings.keys.sorted().joined(separator: ", ")
                throw YAMLError("unknown key \"\(key)\" (known keys: \(known))", at: pair.key.mark)
            }
            seen[key] = pair.value.mark
            do {
                try setting(&config, pair.value)
            } catch {
                throw YAMLError("\(key): \(error.message)", at: error.mark)
            }
        }

        if config.minReplicas > config.maxReplicas {
            let mark = seen["minReplicas"] ?? seen["maxReplicas"] ?? start
            throw YAMLError(
                "minReplicas (\(config.minReplicas)) is greater than maxReplicas (\(config.maxReplicas))", at: mark)
        }
        return config
    }

    private typealias Setting = @Sendable (inout OperatorConfig, YAMLNode) throws(YAMLError) -> Void

    private static let settings: [String: Setting] = [
        "namespace": { config, node throws(YAMLError) in
            config.namespace = try name(node, maxLength: 63, allowDots: false)
        },
        "deployment": { config, node throws(YAMLError) in
            config.deployment = try name(node, maxLength: 253, allowDots: true)
        },
        "selector": { config, node throws(YAMLError) in
            config.selector = try node.string()
            guard !config.selector.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw YAMLError("must not be empty: the operator would scale on every pod in the namespace", at: node.mark)
            }
        },
        "metricsPort": { config, node throws(YAMLError) in
            config.metricsPort = try node.int()
            try require((1...65535).contains(config.metricsPort), "expected a port from 1 to 65535", node)
        },
        "metricsScheme": { config, node throws(YAMLError) in
            guard let scheme = OperatorConfig.MetricsScheme(rawValue: try node.string()) else {
                throw node.mismatch(OperatorConfig.MetricsScheme.allCases.map(\.rawValue).joined(separator: " or "))
            }
            config.metricsScheme = scheme
        },
        "work": { config, node throws(YAMLError) in
            guard let work = OperatorConfig.Work(rawValue: try node.string()) else {
                throw node.mismatch(OperatorConfig.Work.allCases.map(\.rawValue).joined(separator: " or "))
            }
            config.work = work
        },
        "lifetime": { config, node throws(YAMLError) in config.lifetime = try duration(node) },
        "lifetimeJitter": { config, node throws(YAMLError) in
            config.lifetimeJitter = try node.double()
            try require((0..<1).contains(config.lifetimeJitter), "expected a fraction from 0 up to (not including) 1", node)
        },
        "normalRate": { config, node throws(YAMLError) in
            config.normalRate = try node.double()
            try require(config.normalRate > 0, "expected a positive rate (work per second)", node)
        },
        "tolerance": { config, node throws(YAMLError) in
            config.tolerance = try node.double()
            try require((0..<1).contains(config.tolerance), "expected a fraction from 0 up to (not including) 1", node)
        },
        "minReplicas": { config, node throws(YAMLError) in
            config.minReplicas = try node.int()
            try require(config.minReplicas >= 1, "expected at least 1", node)
        },
        "maxReplicas": { config, node throws(YAMLError) in
            config.maxReplicas = try node.int()
            try require(config.maxReplicas >= 1, "expected at least 1", node)
        },
        "interval": { config, node throws(YAMLError) in config.interval = try duration(node) },
        "surgeTimeout": { config, node throws(YAMLError) in config.surgeTimeout = try duration(node) },
        "leaderElection": { config, node throws(YAMLError) in config.leaderElection = try node.bool() },
        "dryRun": { config, node throws(YAMLError) in config.dryRun = try node.bool() },
    ]

    private static func duration(_ node: YAMLNode) throws(YAMLError) -> Duration {
        guard case .scalar(let text, _) = node.value, !node.isNull, let duration = DurationText.parse(text) else {
            throw node.mismatch("a duration such as 90s, 15m or 1h")
        }
        try require(duration > .zero, "expected a positive duration, got \"\(text)\"", node)
        return duration
    }

    /// A Kubernetes object name: lower-case letters, digits and `-`
    /// (and `.` where allowed), starting and ending with a letter or digit.
    private static func name(_ node: YAMLNode, maxLength: Int, allowDots: Bool) throws(YAMLError) -> String {
        let text = try node.string()
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-" + (allowDots ? "." : ""))
        let valid = !text.isEmpty && text.count <= maxLength && text.allSatisfy(allowed.contains)
            && text.first.map { $0.isLetter || $0.isNumber } == true
            && text.last.map { $0.isLetter || $0.isNumber } == true
        try require(valid, "\"\(text)\" is not a valid Kubernetes name", node)
        return text
    }

    private static func require(_ condition: Bool, _ message: String, _ node: YAMLNode) throws(YAMLError) {
        if !condition { throw YAMLError(message, at: node.mark) }
    }
}

/// The config file could not be read or is wrong; the message says where.
public struct ConfigFileError: Error, CustomStringConvertible {
    public var description: String
}
