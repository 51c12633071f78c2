/// Fetches in parallel, consumes in order: the shape of every download
/// (manifests, file blocks, chunks, shares).
enum Pipeline {
    /// Runs `fetch` on each job, at most `width` at once, and hands the
    /// results to `consume` in job order, in the calling task. At most
    /// `width` results are fetched ahead of the one being consumed, so memory
    /// is bounded by `width` results whatever the number of jobs.
    static func run<Jobs: Sequence, Output: Sendable>(
        _ jobs: Jobs,
        width: Int = HTTPSession.parallelRequests,
        fetch: @escaping @Sendable (Jobs.Element) async throws -> Output,
        consume: (Jobs.Element, Output) async throws -> Void
    ) async throws where Jobs.Element: Sendable {
        try await withThrowingTaskGroup(of: (Int, Jobs.Element, Output).self) { group in
            var pending = jobs.makeIterator()
            var started = 0
            var consumed = 0
            var ready: [Int: (Jobs.Element, Output)] = [:]
            while true {
                while started - consumed < width, let job = pending.next() {
                    let index = started
                    group.addTask { (index, job, try await fetch(job)) }
                    started += 1
                }
                guard let (index, job, output) = try await group.next() else { return }
                ready[index] = (job, output)
                while let (job, output) = ready.removeValue(forKey: consumed) {
                    try await consume(job, output)
                    consumed += 1
                }
            }
        }
    }

    /// `fetch` applied to every item, in parallel, results in item order.
    static func map<Item: Sendable, Output: Sendable>(
        _ items: [Item], fetch: @escaping @Sendable (Item) async throws -> Output
    ) async throws -> [Output] {
        var outputs: [Output] = []
        outputs.reserveCapacity(items.count)
        try await run(items, fetch: fetch) { _, output in outputs.append(output) }
        return outputs
    }
}
