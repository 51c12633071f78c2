/// Finds content-defined cut points with FastCDC's gear hash and normalised
/// chunking (level 2): before the average size a cut needs two more zero
/// bits than the average implies, after it two fewer, which keeps chunk
/// sizes close to the average. A cut depends only on the bytes since the
/// chunk's start (the last 64 of them, through the hash), so an edit moves
/// the cut points near it and the chunking falls back in step after it.
///
/// The cut points are part of what makes pushes deduplicate: changing the
/// gear table or the masks would not break stored trees, but would make the
/// next push of every file upload all of it again.
public struct Chunker: Sendable {
    public let parameters: ChunkingParameters
    /// Mask of the top bits that must be zero before the average size.
    private let strictMask: UInt64
    /// Mask of the top bits that must be zero from the average size on.
    private let looseMask: UInt64

    public init(_ parameters: ChunkingParameters = .default) {
        self.parameters = parameters
        // Top bits: after a left-shifting gear hash they depend on the most
        // bytes (up to 64), the low bits only on the last few.
        strictMask = ~UInt64(0) << UInt64(64 - (parameters.averageBits + 2))
        looseMask = ~UInt64(0) << UInt64(64 - (parameters.averageBits - 2))
    }

    /// The length of the chunk that starts at the beginning of `bytes`.
    /// Unless `bytes` holds the rest of the input, it must hold at least
    /// `maximumSize` bytes, so that the cut does not depend on how the input
    /// was read.
    public func cut(_ bytes: UnsafeRawBufferPointer) -> Int {
        let minimum = parameters.minimumSize
        guard bytes.count > minimum else { return bytes.count }
        let normal = Swift.min(parameters.averageSize, bytes.count)
        let end = Swift.min(parameters.maximumSize, bytes.count)
        return GearTable.values.withUnsafeBufferPointer { gear in
            var hash: UInt64 = 0
            var index = minimum
            while index < normal {
                hash = (hash &<< 1) &+ gear[Int(bytes[index])]
                index += 1
                if hash & strictMask == 0 { return index }
            }
            while index < end {
                hash = (hash &<< 1) &+ gear[Int(bytes[index])]
                index += 1
                if hash & looseMask == 0 { return index }
            }
            return end
        }
    }
}

/// The gear hash's 256 random 64-bit values, one per byte value: SplitMix64
/// from a fixed seed, so every client cuts identically.
enum GearTable {
    static let values: [UInt64] = {
        var state: UInt64 = 0x7469_672D_6765_6172  // "tig-gear"
        return (0..<256).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var mixed = state
            mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            return mixed ^ (mixed >> 31)
        }
    }()
}
