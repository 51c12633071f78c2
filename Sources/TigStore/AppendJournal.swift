import CTigSystem
import Glibc
import TigAddress

/// Makes appends all-or-nothing across a crash. Copying an append's bytes
/// into its slot takes many writes, and a process killed among them would
/// leave part of the append behind. So before the copy, a small record
/// naming the slot and its length is linked into the data directory, and it
/// is removed once the copy is complete; at start-up, every record still
/// there cuts its slot back to the recorded length, which is the value the
/// slot had before the interrupted append (never acknowledged).
///
/// A record is an ordinary `<64 hex>.tig` file under a random name, told
/// apart by its mode, 0600 (content blocks are 0444, slots 0644): the data
/// directory keeps holding only block names, and no request can create a
/// file of that mode. Listing, reads, drain and retention skip records.
enum AppendJournal {
    static let mode: mode_t = 0o600
    private static let magic = Array("tig-append-1".utf8)
    private static let recordSize = magic.count + 32 + 8

    /// Links a record saying `slot` was `length` bytes long; returns its name.
    static func begin(slot: BlockAddress, length: Int, in store: BlockStore) throws -> BlockAddress {
        let descriptor = tig_open_unnamed(store.directoryDescriptor)
        guard descriptor >= 0 else { throw StoreError("open(O_TMPFILE) for the append journal") }
        defer { close(descriptor) }
        var record = magic + slot.bytes
        withUnsafeBytes(of: UInt64(length).littleEndian) { record.append(contentsOf: $0) }
        guard write(descriptor, record, record.count) == record.count else { throw StoreError("write append journal") }
        guard fchmod(descriptor, mode) == 0 else { throw StoreError("fchmod append journal") }
        return try store.linkUnderRandomName(descriptor)
    }

    /// The append is complete (or undone): the record goes.
    static func end(_ record: BlockAddress, in store: BlockStore) {
        _ = record.withFileName { unlinkat(store.directoryDescriptor, $0, 0) }
    }

    /// Cuts every slot an interrupted append grew back to its recorded
    /// length and removes the records; returns how many slots it cut.
    @discardableResult
    static func recover(in store: BlockStore) -> Int {
        var records: [BlockAddress] = []
        try? store.forEachRegularFile { name, status in
            if status.st_mode & 0o7777 == mode { records.append(name) }
        }
        var cut = 0
        for record in records {
            if let (slot, length) = read(record, in: store), rollBack(slot, to: length, in: store) {
                cut += 1
                store.logger.notice("append-rolled-back", metadata: ["slot": "\(slot)", "length": "\(length)"])
            }
            end(record, in: store)
        }
        return cut
    }

    private static func read(_ record: BlockAddress, in store: BlockStore) -> (BlockAddress, Int)? {
        let descriptor = record.withFileName { tig_open_read(store.directoryDescriptor, $0) }
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: recordSize + 1)
        guard Glibc.read(descriptor, &bytes, bytes.count) == recordSize, bytes.starts(with: magic) else { return nil }
        let slot = BlockAddress(digest: bytes[magic.count..<magic.count + 32])
        let length = bytes[(magic.count + 32)..<recordSize].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard length <= UInt64(Int.max) else { return nil }
        return (slot, Int(length))
    }

    private static func rollBack(_ slot: BlockAddress, to length: Int, in store: BlockStore) -> Bool {
        let descriptor = slot.withFileName { tig_open_append(store.directoryDescriptor, $0) }
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.isBlockFile, Int(status.st_size) > length else { return false }
        return ftruncate(descriptor, off_t(length)) == 0
    }
}
