import Glibc

/// What `lstat` says about a path, reduced to what a tree records.
enum FileKind: Equatable {
    case regular(size: Int64, executable: Bool)
    case directory
    case symlink
    case other
}

/// The few file-system calls trees need, on raw-byte paths.
enum FileSystem {
    /// `lstat` (symlinks are not followed), or `stat` when `following`.
    static func kind(of path: RawPath, following: Bool = false) throws -> FileKind {
        var status = stat()
        let result = following ? stat(path.cString, &status) : lstat(path.cString, &status)
        guard result == 0 else { throw failure("stat", path) }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return .regular(size: Int64(status.st_size), executable: status.st_mode & S_IXUSR != 0)
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        default: return .other
        }
    }

    /// The names in a directory (without `.` and `..`), in no particular order.
    static func names(in directory: RawPath) throws -> [[UInt8]] {
        guard let stream = opendir(directory.cString) else { throw failure("open directory", directory) }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw failure("read directory", directory) }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(name)
        }
    }

    static func symlinkTarget(_ path: RawPath) throws -> [UInt8] {
        var capacity = 256
        while true {
            var buffer = [CChar](repeating: 0, count: capacity)
            let count = readlink(path.cString, &buffer, capacity)
            guard count >= 0 else { throw failure("read the link", path) }
            if count < capacity { return buffer.prefix(count).map { UInt8(bitPattern: $0) } }
            capacity *= 2
        }
    }

    /// Creates a directory and sets its permission bits exactly.
    static func makeDirectory(_ path: RawPath, permissions: mode_t) throws {
        guard mkdir(path.cString, permissions) == 0 else { throw failure("create directory", path) }
        guard chmod(path.cString, permissions) == 0 else { throw failure("change the mode of", path) }
    }

    static func makeSymlink(_ path: RawPath, target: [UInt8]) throws {
        guard symlink(RawPath(bytes: target).cString, path.cString) == 0 else { throw failure("create the link", path) }
    }

    static func rename(_ source: RawPath, to destination: RawPath) throws {
        guard Glibc.rename(source.cString, destination.cString) == 0 else { throw failure("rename to", destination) }
    }

    static func remove(_ path: RawPath) throws {
        guard unlink(path.cString) == 0 else { throw failure("remove", path) }
    }

    /// Removes `path` and everything below it; symlinks are removed, never
    /// followed.
    static func removeTree(_ path: RawPath) throws {
        if try kind(of: path) == .directory {
            for name in try names(in: path) {
                try removeTree(path.appending(name))
            }
            guard rmdir(path.cString) == 0 else { throw failure("remove directory", path) }
        } else {
            try remove(path)
        }
    }

    /// Nil when nothing is at `path`.
    static func existingKind(of path: RawPath) throws -> FileKind? {
        do {
            return try kind(of: path)
        } catch TigClientError.system(_, _, ENOENT) {
            return nil
        }
    }

    private static func failure(_ operation: String, _ path: RawPath) -> TigClientError {
        .system(operation: operation, path: path.description, errno: errno)
    }
}
