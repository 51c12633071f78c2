import ArgumentParser
import Foundation

/// `--json`: what a command prints, as one JSON object, for scripts and
/// pipelines; keys are sorted so the output is stable.
struct JSONOutputOption: ParsableArguments {
    @Flag(help: "Print the result as one JSON object.")
    var json = false

    /// Prints `object` as JSON when `--json` was given, else `text()`.
    func print(_ object: [String: Any], else text: () -> String) throws {
        guard json else { return Swift.print(text()) }
        try printJSON(object)
    }

    /// Prints `object` as one line of JSON.
    func printJSON(_ object: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        Swift.print(String(decoding: data, as: UTF8.self))
    }
}
