import Foundation
import Logging
import Synchronization
import TigAddress
@testable import TigStore

/// A clock the test moves by hand.
final class FakeClock: WallClock {
    private let current: Atomic<Int64>

    /// Starts at the real time, so files the kernel stamps look current.
    init(_ start: WallTime = SystemWallClock().now()) {
        current = Atomic(start)
    }

    func now() -> WallTime { current.load(ordering: .relaxed) }

    func advance(by duration: Duration) {
        current.add(duration.nanoseconds, ordering: .relaxed)
    }
}

/// A fresh data directory, removed when the test ends.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "tig-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func files() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    func contents(of address: BlockAddress) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path + "/" + address.fileName)))
    }

    func mode(of address: BlockAddress) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path + "/" + address.fileName)
        return (attributes[.posixPermissions] as? Int) ?? -1
    }

    /// Sets a block's modification time (its retention timer) by hand.
    func setLastUse(of address: BlockAddress, to time: WallTime) {
        var times = [timespec](repeating: timespec(wallTime: time), count: 2)
        _ = utimensat(AT_FDCWD, path + "/" + address.fileName, &times, 0)
    }
}

let testLogger = Logger(label: "tig-test")

extension BlockStore {
    convenience init(directory: TemporaryDirectory, retention: Duration = .seconds(600), clock: FakeClock) throws {
        try self.init(directory: directory.path, retention: retention, clock: clock, logger: testLogger)
    }

    /// A body holding `text`.
    func body(_ text: String) throws -> IncomingBlock {
        let body = try incoming(limit: 1 << 20)
        try body.append(Array(text.utf8))
        return body
    }

    func read(_ address: BlockAddress) throws -> String? {
        guard case .block(let file) = try open(address, touch: false) else { return nil }
        defer { file.close() }
        return String(decoding: try file.readAll(), as: UTF8.self)
    }
}

func sha256(_ text: String) -> BlockAddress {
    SHA256Hasher.address(of: Array(text.utf8))
}
