import Foundation
import Logging

/// One line per event on stderr, in the `logfmt` style every tig program
/// uses (DESIGN.md): `2026-11-21T14:00:00Z info tig: event=listening key=value`.
/// The log message is the event name; metadata are the key/value pairs.
public struct LogfmtLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:]) { $1 }
        var line = "\(Self.timestamp()) \(event.level) \(label): event=\(Self.quoted(event.message.description))"
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(Self.quoted(value.description))"
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Values with spaces, quotes or `=` are quoted so that a line splits unambiguously.
    static func quoted(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) else {
            return value
        }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }

    private static func timestamp() -> String {
        var now = time_t(Date().timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension LoggingSystem {
    /// Sends every logger of this process to stderr as logfmt lines.
    public static func bootstrapLogfmt(level: Logger.Level) {
        bootstrap { LogfmtLogHandler(label: $0, level: level) }
    }
}
