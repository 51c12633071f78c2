import TigAddress

/// A channel: a stored value that points at a key slot without revealing it.
///
/// A key slot holding exactly `Write only channel to tig /<t>.tig` forwards
/// writes to slot t and refuses reads; a block holding exactly
/// `Read only channel to tig /<t>.tig` answers reads with slot t's value and
/// refuses writes. The marker text is the whole value, so only values of the
/// two marker lengths need to be inspected.
public enum ChannelMarker: Equatable, Sendable {
    case writeOnly(target: BlockAddress)
    case readOnly(target: BlockAddress)

    static let writeOnlyPrefix = Array("Write only channel to tig ".utf8)
    static let readOnlyPrefix = Array("Read only channel to tig ".utf8)

    /// Sizes a marker value can have; any other size is an ordinary value.
    public static let possibleSizes: Set<Int> = [
        writeOnlyPrefix.count + BlockAddress.pathLength,
        readOnlyPrefix.count + BlockAddress.pathLength,
    ]

    public static let maximumSize = possibleSizes.max() ?? 0

    /// Parses a whole value; nil when it is not exactly a marker.
    public init?<Bytes: Collection<UInt8>>(value: Bytes) {
        if value.starts(with: Self.writeOnlyPrefix),
           let target = BlockAddress(path: value.dropFirst(Self.writeOnlyPrefix.count)) {
            self = .writeOnly(target: target)
        } else if value.starts(with: Self.readOnlyPrefix),
                  let target = BlockAddress(path: value.dropFirst(Self.readOnlyPrefix.count)) {
            self = .readOnly(target: target)
        } else {
            return nil
        }
    }

    /// The marker's exact text.
    public var value: String {
        switch self {
        case .writeOnly(let target): String(decoding: Self.writeOnlyPrefix, as: UTF8.self) + target.path
        case .readOnly(let target): String(decoding: Self.readOnlyPrefix, as: UTF8.self) + target.path
        }
    }

    public var target: BlockAddress {
        switch self {
        case .writeOnly(let target), .readOnly(let target): target
        }
    }
}
