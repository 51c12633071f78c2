import Foundation

/// One line of a watch stream.
public enum WatchEvent<Object: Decodable & Sendable>: Sendable {
    case added(Object)
    case modified(Object)
    case deleted(Object)
    /// Nothing changed; the stream has caught up to this resourceVersion.
    case bookmark(resourceVersion: String?)
    /// The server ended the watch with a Status (410 Gone: the
    /// resourceVersion is too old, list again).
    case error(Status)
}

extension WatchEvent {
    private struct Envelope<Payload: Decodable>: Decodable {
        var type: String
        var object: Payload
    }

    private struct BookmarkObject: Decodable {
        var metadata: ListMeta
    }

    private struct TypeOnly: Decodable {
        var type: String
    }

    /// Decodes one JSON line of a watch stream.
    static func decode(line: [UInt8]) throws -> WatchEvent {
        let decoder = KubeJSON.decoder()
        let data = Data(line)
        let type = try decoder.decode(TypeOnly.self, from: data).type
        switch type {
        case "ADDED": return .added(try decoder.decode(Envelope<Object>.self, from: data).object)
        case "MODIFIED": return .modified(try decoder.decode(Envelope<Object>.self, from: data).object)
        case "DELETED": return .deleted(try decoder.decode(Envelope<Object>.self, from: data).object)
        case "BOOKMARK":
            return .bookmark(resourceVersion: try decoder.decode(Envelope<BookmarkObject>.self, from: data).object.metadata.resourceVersion)
        case "ERROR": return .error(try decoder.decode(Envelope<Status>.self, from: data).object)
        default: throw KubeAPIError.malformed("unknown watch event type \(type)")
        }
    }
}
