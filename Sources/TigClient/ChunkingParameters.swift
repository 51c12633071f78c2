/// Sizes of content-defined chunks. The average is a power of two; the
/// bounds follow FastCDC: at least a quarter of it, at most eight times it.
public struct ChunkingParameters: Sendable, Equatable {
    public let averageSize: Int
    public var minimumSize: Int { averageSize / 4 }
    public var maximumSize: Int { averageSize * 8 }

    /// 1 MiB: a 1 GiB tree is about a thousand chunks, few enough for cheap
    /// HEAD/GET rounds, small enough that a one-byte change re-uploads little.
    public static let `default` = ChunkingParameters(validAverage: 1 << 20)

    /// Smallest and largest accepted averages. The largest keeps the largest
    /// chunk (8 × average) within the server's default 128 MiB block limit.
    public static let averageRange = (1 << 8)...(1 << 24)

    public init(averageSize: Int) throws {
        guard Self.averageRange.contains(averageSize), averageSize.nonzeroBitCount == 1 else {
            throw TigClientError.invalidArgument(
                "the average chunk size must be a power of two from 256 bytes to 16 MiB, not \(averageSize)"
            )
        }
        self.init(validAverage: averageSize)
    }

    private init(validAverage: Int) {
        self.averageSize = validAverage
    }

    /// log2 of the average: the number of hash bits a cut point must match.
    var averageBits: Int { averageSize.trailingZeroBitCount }
}
