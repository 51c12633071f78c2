/// A directory on disk as a tree will record it, read before anything is
/// uploaded so the total size is known for progress.
struct LocalTree {
    indirect enum Node {
        case file(executable: Bool)
        case directory([Entry])
        case symlink(target: [UInt8])
    }

    struct Entry {
        let name: [UInt8]
        let node: Node
    }

    let entries: [Entry]

    /// Bytes of all regular files.
    let size: Int64

    /// Reads `root` (a directory, or a symlink to one) and everything below
    /// it; symlinks below the root are recorded, not followed. Fails on
    /// anything that is not a file, directory or symlink.
    init(scanning root: RawPath) throws {
        guard try FileSystem.kind(of: root, following: true) == .directory else {
            throw TigClientError.notADirectory(root.description)
        }
        (entries, size) = try Self.scan(root)
    }

    private static func scan(_ directory: RawPath) throws -> ([Entry], Int64) {
        var entries: [Entry] = []
        var total: Int64 = 0
        for name in try FileSystem.names(in: directory).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let path = directory.appending(name)
            switch try FileSystem.kind(of: path) {
            case .regular(let size, let executable):
                entries.append(Entry(name: name, node: .file(executable: executable)))
                total += size
            case .directory:
                let (children, size) = try scan(path)
                entries.append(Entry(name: name, node: .directory(children)))
                total += size
            case .symlink:
                entries.append(Entry(name: name, node: .symlink(target: try FileSystem.symlinkTarget(path))))
            case .other:
                throw TigClientError.unsupportedFileType(path.description)
            }
        }
        return (entries, total)
    }
}
