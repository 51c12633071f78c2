import NIOCore

/// Where a download goes before it is known to be right. Bytes are written
/// to a temporary file (next to the destination, or in the temp directory
/// for standard output) and reach the destination only on `commit`, by a
/// rename or a copy. Released without a commit, the temporary file is
/// removed, so a failed download leaves nothing behind.
public final class StagedOutput {
    private let file: OpenFile
    private let temporary: RawPath
    private let destination: RawPath?
    private var committed = false

    /// `destination` nil means standard output.
    public init(destination: RawPath?) throws {
        temporary = destination.map { TemporaryName.beside($0, purpose: "download") }
            ?? TemporaryName.inTemporaryDirectory("tig-download")
        file = try OpenFile.creating(temporary, mode: 0o666)
        self.destination = destination
    }

    deinit {
        if !committed { try? FileSystem.remove(temporary) }
    }

    public func write(_ piece: ByteBuffer) throws {
        try file.write(piece)
    }

    public func commit() throws {
        if let destination {
            try FileSystem.rename(temporary, to: destination)
        } else {
            try file.rewind()
            while let piece = try file.read(upTo: 1 << 20) {
                try OpenFile.standardOutput.write(piece)
            }
            try FileSystem.remove(temporary)
        }
        committed = true
    }
}
