import ArgumentParser
import Foundation
import Logging

/// How every tig program writes its log lines on stderr (SPEC §5).
public enum LogFormat: String, CaseIterable, Sendable, ExpressibleByArgument {
    /// `ts=2026-11-21T14:00:00.123Z level=info logger=tig event=listening key=value`
    case logfmt
    /// `{"ts":"2026-11-21T14:00:00.123Z","level":"info","logger":"tig","event":"listening","key":"value"}`
    case json
}

/// One line per event on stderr: the log message is the event name, the
/// metadata its fields. `ts`, `level`, `logger` and `event` come first, in
/// that order, so that a line reads the same in a terminal and in a pipeline
/// (Loki, Elastic, `grep event=`); a metadata key with one of those names
/// cannot shadow them.
public struct EventLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let format: LogFormat

    public init(label: String, level: Logger.Level, format: LogFormat) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let line = Self.line(format, at: Date(), level: event.level, label: label, event: event.message.description,
                             fields: metadata.merging(event.metadata ?? [:]) { $1 })
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func line(_ format: LogFormat, at time: Date, level: Logger.Level, label: String, event: String,
                     fields: Logger.Metadata) -> String {
        let fixed = [("ts", Self.timestamp(time)), ("level", "\(level)"), ("logger", label), ("event", event)]
        let reserved = Set(fixed.map(\.0))
        let pairs = fixed + fields.filter { !reserved.contains($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value.description) }
        switch format {
        case .logfmt:
            return pairs.map { "\(Self.logfmtKey($0.0))=\(Self.quoted($0.1))" }.joined(separator: " ")
        case .json:
            return "{" + pairs.map { "\(Self.jsonString($0.0)):\(Self.jsonString($0.1))" }.joined(separator: ",") + "}"
        }
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

    /// A logfmt key is one bare word: anything else becomes `_`.
    private static func logfmtKey(_ key: String) -> String {
        String(key.unicodeScalars.map { $0.value > 0x20 && $0 != "=" && $0 != "\"" && $0.value != 0x7F ? Character($0) : "_" })
    }

    /// A JSON string literal (RFC 8259): quote, backslash and control
    /// characters escaped, everything else as it is (UTF-8).
    static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// RFC 3339 in UTC with milliseconds: `2026-11-21T14:00:00.123Z`.
    static func timestamp(_ time: Date) -> String {
        let milliseconds = Int64((time.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds.quotientAndRemainder(dividingBy: 1000).quotient)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S", &parts)
        let whole = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let fraction = Int(milliseconds - Int64(seconds) * 1000)
        return whole + "." + String(fraction + 1000).dropFirst() + "Z"
    }
}

extension LoggingSystem {
    /// Sends every logger of this process to stderr, one line per event.
    public static func bootstrapEventLines(level: Logger.Level, format: LogFormat) {
        bootstrap { EventLogHandler(label: $0, level: level, format: format) }
    }
}
