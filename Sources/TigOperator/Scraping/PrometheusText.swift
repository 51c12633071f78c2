/// Reads counters out of the Prometheus text exposition format.
enum PrometheusText {
    /// The sum of every sample of the named metrics (all label sets), or nil
    /// when none of them appears: a pod that does not expose its work yet
    /// has no measurement, which is different from zero work. A family that
    /// is declared (`# TYPE`) without samples is zero: tig makes a request
    /// series when it first answers such a request, so an idle pod has none.
    static func sum(of names: Set<String>, in text: String) -> Double? {
        var total: Double?
        for line in text.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("# TYPE "), let name = line.dropFirst(7).split(separator: " ").first, names.contains(String(name)) {
                total = total ?? 0
            }
            guard let sample = sample(Substring(line)), names.contains(String(sample.name)) else { continue }
            total = (total ?? 0) + sample.value
        }
        return total
    }

    /// `name{label="value",…} 12.5 [timestamp]`; comments, NaN and infinities yield nil.
    static func sample(_ line: Substring) -> (name: Substring, value: Double)? {
        let line = line.drop { $0 == " " || $0 == "\t" }
        guard let first = line.first, first != "#" else { return nil }
        let nameEnd = line.firstIndex { $0 == "{" || $0 == " " || $0 == "\t" } ?? line.endIndex
        let name = line[..<nameEnd]
        var rest = line[nameEnd...]
        if rest.first == "{" {
            guard let close = closingBrace(of: rest) else { return nil }
            rest = rest[rest.index(after: close)...]
        }
        guard let valueText = rest.split(whereSeparator: { $0 == " " || $0 == "\t" }).first,
            let value = Double(valueText), value.isFinite
        else { return nil }
        return (name, value)
    }

    /// The `}` that ends a label set, skipping quoted values (which may hold
    /// `}` or escaped quotes).
    private static func closingBrace(of labels: Substring) -> Substring.Index? {
        var inQuotes = false
        var escaped = false
        for index in labels.indices {
            let character = labels[index]
            if escaped {
                escaped = false
            } else if character == "\\" {
                escaped = inQuotes
            } else if character == "\"" {
                inQuotes.toggle()
            } else if character == "}" && !inQuotes {
                return index
            }
        }
        return nil
    }
}

extension OperatorConfig.Work {
    /// The counters whose sum is a pod's work.
    var metricNames: Set<String> {
        switch self {
        case .requests: ["tig_requests_total"]
        case .bytes: ["tig_bytes_received_total", "tig_bytes_sent_total"]
        }
    }
}
