import NIOCore
import TigAddress

/// A stored tree's manifests, fetched and verified, one per distinct
/// directory: equal subtrees are fetched once.
public struct StoredTree: Sendable {
    public let root: BlockAddress
    private let manifests: [BlockAddress: TreeManifest]

    /// Bytes of all files in the tree.
    public var size: Int64 { manifests[root]?.size ?? 0 }

    /// Fetches every manifest, a level at a time with the levels' manifests
    /// in parallel, and checks that each directory's recorded size matches
    /// its manifest.
    public static func fetch(_ root: BlockAddress, from server: BlockServer) async throws -> StoredTree {
        var manifests: [BlockAddress: TreeManifest] = [:]
        var level = [root]
        while !level.isEmpty {
            let fetched = try await Pipeline.map(level) { address in
                try decodeManifest(try await server.get(address), at: address)
            }
            var next: [BlockAddress] = []
            for (address, manifest) in zip(level, fetched) {
                manifests[address] = manifest
                for case .directory(let child) in manifest.entries.map(\.content) where manifests[child] == nil {
                    next.append(child)
                }
            }
            level = Array(Set(next).subtracting(manifests.keys))
        }
        try checkSizes(manifests)
        return StoredTree(root: root, manifests: manifests)
    }

    static func decodeManifest(_ bytes: ByteBuffer, at address: BlockAddress) throws -> TreeManifest {
        guard TreeManifest.hasHeader(bytes.readableBytesView) else {
            throw TigClientError.malformed(what: "tree", reason: "\(address) is a block but not a tree manifest (tig push makes trees)")
        }
        do {
            return try TreeManifest(decoding: bytes.readableBytesView)
        } catch TigClientError.malformed(let what, let reason) {
            throw TigClientError.malformed(what: "\(what) at \(address)", reason: reason)
        }
    }

    private static func checkSizes(_ manifests: [BlockAddress: TreeManifest]) throws {
        for manifest in manifests.values {
            for entry in manifest.entries {
                guard case .directory(let child) = entry.content, let childManifest = manifests[child] else { continue }
                guard childManifest.size == entry.size else {
                    throw TigClientError.inconsistent("directory \(child) holds \(childManifest.size) bytes, its parent says \(entry.size)")
                }
            }
        }
    }

    /// Every entry, depth first, each directory's entries in name order,
    /// with its path relative to the root.
    public func walk(_ visit: (RawPath, TreeEntry) throws -> Void) rethrows {
        try walk(root, under: RawPath(bytes: []), visit)
    }

    private func walk(_ address: BlockAddress, under directory: RawPath, _ visit: (RawPath, TreeEntry) throws -> Void) rethrows {
        for entry in manifests[address]?.entries ?? [] {
            let path = directory.appending(entry.name)
            try visit(path, entry)
            if case .directory(let child) = entry.content {
                try walk(child, under: path, visit)
            }
        }
    }

    /// Every distinct file block of the tree.
    var fileBlocks: Set<BlockAddress> {
        var blocks: Set<BlockAddress> = []
        for manifest in manifests.values {
            for case .file(let block, _) in manifest.entries.map(\.content) { blocks.insert(block) }
        }
        return blocks
    }

    /// Distinct directories (manifests) in the tree.
    var manifestCount: Int { manifests.count }

    /// The chunk lists of every file block, fetched in parallel and verified.
    public func fetchChunkLists(from server: BlockServer) async throws -> [BlockAddress: [BlockAddress]] {
        let blocks = Array(fileBlocks)
        let lists = try await Pipeline.map(blocks) { block in
            try FileBlock.decode(try await server.get(block).readableBytesView)
        }
        return Dictionary(uniqueKeysWithValues: zip(blocks, lists))
    }
}
