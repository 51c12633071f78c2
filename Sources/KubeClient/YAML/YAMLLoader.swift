import CYAML

/// Parses YAML text with libyaml into a `YAMLNode` tree (the first document).
public enum YAMLLoader {
    /// Deep enough for any config or kubeconfig; shallow enough that an
    /// alias cycle or a hostile file cannot exhaust the stack.
    static let maximumDepth = 64

    /// Returns nil for an empty document (nothing but comments or whitespace).
    public static func load(_ text: String) throws(YAMLError) -> YAMLNode? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw YAMLError("libyaml could not start (out of memory)", at: YAMLMark(line: 1, column: 1))
        }
        defer { yaml_parser_delete(&parser) }

        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { (input) throws(YAMLError) -> YAMLNode? in
            yaml_parser_set_input_string(&parser, input.baseAddress, input.count)
            var document = yaml_document_t()
            guard yaml_parser_load(&parser, &document) == 1 else {
                throw syntaxError(parser)
            }
            defer { yaml_document_delete(&document) }
            guard let root = yaml_document_get_root_node(&document) else { return nil }
            return try convert(root, in: &document, depth: 0)
        }
    }

    private static func convert(
        _ node: UnsafeMutablePointer<yaml_node_t>, in document: inout yaml_document_t, depth: Int
    ) throws(YAMLError) -> YAMLNode {
        let mark = YAMLMark(line: Int(node.pointee.start_mark.line) + 1, column: Int(node.pointee.start_mark.column) + 1)
        guard depth < maximumDepth else { throw YAMLError("nested too deeply", at: mark) }

        switch node.pointee.type {
        case YAML_SCALAR_NODE:
            let scalar = node.pointee.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            return YAMLNode(.scalar(text, plain: scalar.style == YAML_PLAIN_SCALAR_STYLE), mark: mark)
        case YAML_SEQUENCE_NODE:
            var items: [YAMLNode] = []
            var item = node.pointee.data.sequence.items.start
            while let current = item, current != node.pointee.data.sequence.items.top {
                items.append(try child(current.pointee, in: &document, depth: depth, mark: mark))
                item = current + 1
            }
            return YAMLNode(.sequence(items), mark: mark)
        case YAML_MAPPING_NODE:
            var pairs: [YAMLPair] = []
            var pair = node.pointee.data.mapping.pairs.start
            while let current = pair, current != node.pointee.data.mapping.pairs.top {
                let key = try child(current.pointee.key, in: &document, depth: depth, mark: mark)
                let value = try child(current.pointee.value, in: &document, depth: depth, mark: mark)
                pairs.append(YAMLPair(key: key, value: value))
                pair = current + 1
            }
            return YAMLNode(.mapping(pairs), mark: mark)
        default:
            throw YAMLError("empty node", at: mark)
        }
    }

    private static func child(
        _ index: Int32, in document: inout yaml_document_t, depth: Int, mark: YAMLMark
    ) throws(YAMLError) -> YAMLNode {
        guard let node = yaml_document_get_node(&document, index) else {
            throw YAMLError("dangling node reference", at: mark)
        }
        return try convert(node, in: &document, depth: depth + 1)
    }

    private static func syntaxError(_ parser: yaml_parser_t) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        let context = parser.context.map { String(cString: $0) + ": " } ?? ""
        let mark = YAMLMark(line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1)
        return YAMLError(context + problem, at: mark)
    }
}
