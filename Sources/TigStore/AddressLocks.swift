import NIOConcurrencyHelpers
import TigAddress

/// Serialises mutations of one address. One server process owns a data
/// directory, so an in-process lock is enough; striping keeps the table small
/// while unrelated addresses almost never wait for each other. Reads take no
/// lock: replacements are `rename`s, so a reader sees a whole old or new file.
struct AddressLocks: Sendable {
    private let stripes: [NIOLock]

    init(stripes: Int = 1024) {
        self.stripes = (0..<stripes).map { _ in NIOLock() }
    }

    func withLock<Result>(_ address: BlockAddress, _ body: () throws -> Result) rethrows -> Result {
        let stripe = Int(truncatingIfNeeded: address.words.3 % UInt64(stripes.count))
        return try stripes[stripe].withLock(body)
    }
}
