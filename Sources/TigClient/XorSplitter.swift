import NIOCore
import TigAddress

/// `tig split --xor`: sends each server one XOR share of a file, so that no
/// server (nor any n − 1 of them together) holds anything but uniform noise.
/// The file is read in 1 MiB pieces; each piece is split with fresh pads and
/// each server stores its share of it as a block, then one block listing
/// its pieces in order. Memory is bounded by the pieces in flight.
public struct XorSplitter {
    public let servers: [BlockServer]

    static let pieceSize = 1 << 20

    public init(servers: [BlockServer]) throws {
        guard servers.count >= 2 else { throw TigClientError.invalidArgument("an XOR split needs at least two servers") }
        self.servers = servers
    }

    public func split(_ file: OpenFile, progress: ProgressBar?) async throws -> ShareDescriptor {
        let hasher = SHA256Hasher()
        var size: Int64 = 0
        var pieceLists = Array(repeating: [BlockAddress](), count: servers.count)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            while let piece = try file.read(upTo: Self.pieceSize) {
                piece.withUnsafeReadableBytes { hasher.update($0) }
                size += Int64(piece.readableBytes)
                for (index, share) in try XorShares.split(piece, into: servers.count).enumerated() {
                    let block = Block(share)
                    pieceLists[index].append(block.address)
                    if running >= HTTPSession.parallelRequests * servers.count {
                        try await group.next()
                        running -= 1
                    }
                    let server = servers[index]
                    group.addTask { try await server.put(block) }
                    running += 1
                }
                progress?.advance(by: piece.readableBytes)
            }
            try await group.waitForAll()
        }
        let lists = pieceLists.map { Block(FileBlock.encode($0)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (server, list) in zip(servers, lists) {
                group.addTask { try await server.put(list) }
            }
            try await group.waitForAll()
        }
        let shares = zip(servers, lists).map { ShareDescriptor.Share(server: $0.url, list: $1.address) }
        return ShareDescriptor(sha256: hasher.finish(), size: size, shares: shares)
    }
}
