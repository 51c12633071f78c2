/// A YAML document as a tree that remembers where each node starts, so that
/// whoever reads it (the operator config, a kubeconfig) can point at the line
/// and column of a mistake.
public struct YAMLNode: Sendable {
    public enum Value: Sendable {
        /// `plain` is false for quoted and block scalars: `"10"` is a string, `10` a number.
        case scalar(String, plain: Bool)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    public var value: Value
    public var mark: YAMLMark

    public init(_ value: Value, mark: YAMLMark) {
        self.value = value
        self.mark = mark
    }
}

public struct YAMLPair: Sendable {
    public var key: YAMLNode
    public var value: YAMLNode
}

/// 1-based line and column, as editors count them.
public struct YAMLMark: Sendable, Equatable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// A mistake in a YAML file, located: "line 3, column 7: expected a number".
public struct YAMLError: Error, Equatable, CustomStringConvertible {
    public var mark: YAMLMark
    public var message: String

    public init(_ message: String, at mark: YAMLMark) {
        self.mark = mark
        self.message = message
    }

    public var description: String { "line \(mark.line), column \(mark.column): \(message)" }
}

extension YAMLNode {
    /// `~`, `null`, or nothing at all after the colon.
    public var isNull: Bool {
        if case .scalar(let text, plain: true) = value {
            return ["", "~", "null", "Null", "NULL"].contains(text)
        }
        return false
    }

    /// What kind of node this is, for "expected X, got Y" messages.
    public var kindDescription: String {
        switch value {
        case .scalar(let text, _): isNull ? "null" : "\"\(text)\""
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }

    public func sequence() throws(YAMLError) -> [YAMLNode] {
        if isNull { return [] }
        guard case .sequence(let items) = value else { throw mismatch("a list") }
        return items
    }

    public func string() throws(YAMLError) -> String {
        guard case .scalar(let text, _) = value, !isNull else { throw mismatch("a string") }
        return text
    }

    /// YAML 1.2 core-schema booleans only: `yes`/`on` are strings, not booleans.
    public func bool() throws(YAMLError) -> Bool {
        if case .scalar(let text, plain: true) = value {
            switch text {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
        }
        throw mismatch("true or false")
    }

    public func int() throws(YAMLError) -> Int {
        if case .scalar(let text, plain: true) = value, let number = Int(text) { return number }
        throw mismatch("an integer")
    }

    public func double() throws(YAMLError) -> Double {
        if case .scalar(let text, plain: true) = value, let number = Double(text), number.isFinite {
            return number
        }
        throw mismatch("a number")
    }

    /// The value under `key` in a mapping, if present; the first one wins.
    public subscript(key: String) -> YAMLNode? {
        guard case .mapping(let pairs) = value else { return nil }
        return pairs.first { if case .scalar(key, _) = $0.key.value { true } else { false } }?.value
    }

    public func mismatch(_ expected: String) -> YAMLError {
        YAMLError("expected \(expected), got \(kindDescription)", at: mark)
    }
}
