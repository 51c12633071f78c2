import Testing
import TigAddress
@testable import TigClient

@Suite struct ChunkerTests {
    static let parameters = try! ChunkingParameters(averageSize: 64 << 10)
    let chunker = Chunker(parameters)

    /// Chunk lengths of `bytes` cut as one buffer.
    func lengths(_ bytes: [UInt8]) -> [Int] {
        bytes.withUnsafeBytes { all in
            var lengths: [Int] = []
            var start = 0
            while start < all.count {
                let length = chunker.cut(UnsafeRawBufferPointer(rebasing: all[start...]))
                lengths.append(length)
                start += length
            }
            return lengths
        }
    }

    @Test func sameBytesCutTheSameWay() {
        let data = TestData.random(count: 2 << 20, seed: 1)
        #expect(lengths(data) == lengths(data))
        #expect(lengths(data).reduce(0, +) == data.count)
    }

    @Test func chunksStayWithinBoundsAndNearTheAverage() {
        let data = TestData.random(count: 8 << 20, seed: 2)
        let cut = lengths(data)
        for length in cut.dropLast() {
            #expect(length >= Self.parameters.minimumSize && length <= Self.parameters.maximumSize)
        }
        let average = data.count / cut.count
        #expect(average > Self.parameters.averageSize / 2 && average < Self.parameters.averageSize * 2)
    }

    @Test func bytesWithoutCutPointsAreCutAtTheMaximum() {
        let zeros = [UInt8](repeating: 0, count: 3 * Self.parameters.maximumSize + 5)
        #expect(lengths(zeros) == [Self.parameters.maximumSize, Self.parameters.maximumSize, Self.parameters.maximumSize, 5])
    }

    @Test func aOneByteChangeReCutsOnlyNearIt() {
        let original = TestData.random(count: 8 << 20, seed: 3)
        var changed = original
        changed[original.count / 2] ^= 0xFF
        let before = Set(chunks(original))
        let after = chunks(changed)
        let new = after.filter { !before.contains($0) }
        #expect(new.count >= 1 && new.count <= 2)
        #expect(after.count - new.count >= before.count - 3)
    }

    @Test func anInsertionReCutsOnlyNearIt() {
        let original = TestData.random(count: 8 << 20, seed: 4)
        var changed = original
        changed.insert(contentsOf: [1, 2, 3], at: original.count / 3)
        let before = Set(chunks(original))
        let new = chunks(changed).filter { !before.contains($0) }
        #expect(new.count >= 1 && new.count <= 2)
    }

    @Test func readingInPiecesCutsLikeOneBuffer() throws {
        let data = TestData.random(count: 3 << 20, seed: 5)
        let path = RawPath("/tmp/tig-chunker-test-\(BlockAddress.random().hex)")
        defer { try? FileSystem.remove(path) }
        try data.withUnsafeBytes { try OpenFile.creating(path, mode: 0o600).write($0) }
        var reader = try ChunkReader(file: try OpenFile.reading(path), chunker: chunker)
        #expect(try readLengths(&reader) == lengths(data))
    }

    @Test func aFileThatGrowsAfterOpeningIsStillCutLikeOneBuffer() throws {
        let data = TestData.random(count: 3 << 20, seed: 6)
        let path = RawPath("/tmp/tig-chunker-test-\(BlockAddress.random().hex)")
        defer { try? FileSystem.remove(path) }
        let writer = try OpenFile.creating(path, mode: 0o600)
        try data.prefix(10).withUnsafeBytes { try writer.write($0) }
        // The reader sizes its buffer for 10 bytes, then finds 3 MiB.
        var reader = try ChunkReader(file: try OpenFile.reading(path), chunker: chunker)
        try data.dropFirst(10).withUnsafeBytes { try writer.write($0) }
        #expect(try readLengths(&reader) == lengths(data))
    }

    private func readLengths(_ reader: inout ChunkReader) throws -> [Int] {
        var read: [Int] = []
        while let chunk = try reader.next() { read.append(chunk.bytes.readableBytes) }
        return read
    }

    @Test func averagesMustBePowersOfTwoInRange() {
        #expect(throws: TigClientError.self) { try ChunkingParameters(averageSize: 1_000_000) }
        #expect(throws: TigClientError.self) { try ChunkingParameters(averageSize: 128) }
        #expect(throws: TigClientError.self) { try ChunkingParameters(averageSize: 32 << 20) }
        #expect(ChunkingParameters.default.averageSize == 1 << 20)
        #expect(ChunkingParameters.default.minimumSize == 256 << 10)
        #expect(ChunkingParameters.default.maximumSize == 8 << 20)
    }

    /// The addresses of the chunks of `bytes`.
    private func chunks(_ bytes: [UInt8]) -> [BlockAddress] {
        var start = 0
        return lengths(bytes).map { length in
            defer { start += length }
            return SHA256Hasher.address(of: bytes[start..<start + length])
        }
    }
}
