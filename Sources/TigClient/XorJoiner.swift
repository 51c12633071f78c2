import AsyncHTTPClient
import NIOCore
import TigAddress

/// `tig join`: fetches every share named by a descriptor, piece by piece,
/// verifies each piece's hash, XORs them and checks the result against the
/// descriptor's size and SHA-256 before the output is committed.
public struct XorJoiner: Sendable {
    private let descriptor: ShareDescriptor
    private let servers: [BlockServer]

    public init(_ descriptor: ShareDescriptor, http: HTTPClient) throws {
        self.descriptor = descriptor
        self.servers = try descriptor.shares.map { try BlockServer(url: $0.server, apikey: nil, http: http) }
    }

    public func join(into output: StagedOutput, progress: ProgressBar?) async throws {
        progress?.setTotal(descriptor.size)
        let lists = try await Pipeline.map(Array(servers.indices)) { [self] index in
            try await reading(share: index) { try FileBlock.decode(try await servers[index].get(descriptor.shares[index].list).readableBytesView) }
        }
        guard let pieceCount = lists.first?.count, lists.allSatisfy({ $0.count == pieceCount }) else {
            throw TigClientError.inconsistent("the shares have different numbers of pieces: they are not from one split")
        }
        let hasher = SHA256Hasher()
        var size: Int64 = 0
        try await Pipeline.run(0..<pieceCount) { [self] piece in
            let shares = try await Pipeline.map(Array(servers.indices)) { index in
                try await reading(share: index) { try await servers[index].get(lists[index][piece]) }
            }
            guard shares.allSatisfy({ $0.readableBytes == shares[0].readableBytes }) else {
                throw TigClientError.inconsistent("piece \(piece + 1) differs in length between shares: they are not from one split")
            }
            return XorShares.combine(shares)
        } consume: { _, bytes in
            bytes.withUnsafeReadableBytes { hasher.update($0) }
            size += Int64(bytes.readableBytes)
            try output.write(bytes)
            progress?.advance(by: bytes.readableBytes)
        }
        guard size == descriptor.size, hasher.finish() == descriptor.sha256 else {
            throw TigClientError.inconsistent(
                "the joined bytes do not match the descriptor's size and SHA-256: a share is wrong or from another split"
            )
        }
    }

    /// Runs `operation` on share `index`, naming the share in any failure.
    private func reading<Result>(share index: Int, _ operation: () async throws -> Result) async throws -> Result {
        do {
            return try await operation()
        } catch let error as TigClientError {
            throw TigClientError.share(number: index + 1, of: servers.count, server: servers[index].url, problem: error.description)
        }
    }
}
