import TigAddress

/// What a push or split sent and what it found already stored.
public struct TransferStatistics: Sendable, Equatable {
    /// Distinct blocks the result needs.
    public var blocks = 0
    public var uploadedBlocks = 0
    public var uploadedBytes: Int64 = 0
    public var presentBlocks = 0
    public var presentBytes: Int64 = 0
}

/// Stores blocks on one server, at most `HTTPSession.parallelRequests` at a
/// time, each at most once per run and only when a HEAD shows the server
/// lacks it.
///
/// A HEAD does not reset the retention timer of a block it finds, and no
/// request that does is cheaper than sending the block (a GET sends it
/// back): blocks a push finds keep the timers of their last read or write,
/// and `tig keepalive` is what keeps a tree beyond the retention period.
struct UploadQueue {
    private enum Outcome: Sendable {
        case uploaded(Int)
        case present(Int)
    }

    private let server: BlockServer
    private var group: ThrowingTaskGroup<Outcome, any Error>
    private var running = 0
    private var submitted: Set<BlockAddress> = []
    private var statistics = TransferStatistics()

    /// Runs `body` with a queue whose every upload has finished when it
    /// returns (or has been cancelled, when it throws).
    static func run<Result: Sendable>(
        to server: BlockServer,
        _ body: (inout UploadQueue) async throws -> Result
    ) async throws -> (Result, TransferStatistics) {
        try await withThrowingTaskGroup(of: Outcome.self) { group in
            var queue = UploadQueue(server: server, group: group)
            let result = try await body(&queue)
            while queue.running > 0 { try await queue.collectOne() }
            return (result, queue.statistics)
        }
    }

    private init(server: BlockServer, group: ThrowingTaskGroup<Outcome, any Error>) {
        self.server = server
        self.group = group
    }

    /// Queues `block`, waiting first while the queue is full.
    mutating func store(_ block: Block) async throws {
        guard submitted.insert(block.address).inserted else { return }
        statistics.blocks += 1
        if running >= HTTPSession.parallelRequests { try await collectOne() }
        let server = server
        group.addTask {
            let size = block.bytes.readableBytes
            // Another length there is a key slot squatting at the content
            // address, which a content write replaces.
            if try await server.length(of: block.address) == size { return .present(size) }
            try await server.put(block)
            return .uploaded(size)
        }
        running += 1
    }

    private mutating func collectOne() async throws {
        guard let outcome = try await group.next() else { return }
        running -= 1
        switch outcome {
        case .uploaded(let size):
            statistics.uploadedBlocks += 1
            statistics.uploadedBytes += Int64(size)
        case .present(let size):
            statistics.presentBlocks += 1
            statistics.presentBytes += Int64(size)
        }
    }
}
