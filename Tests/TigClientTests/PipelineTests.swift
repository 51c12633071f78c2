import NIOConcurrencyHelpers
import Testing
@testable import TigClient

@Suite struct PipelineTests {
    @Test func resultsArriveInJobOrderWithBoundedParallelism() async throws {
        let running = NIOLockedValueBox((now: 0, most: 0))
        var consumed: [Int] = []
        try await Pipeline.run(0..<200, width: 4) { job in
            running.withLockedValue { $0.now += 1; $0.most = max($0.most, $0.now) }
            // Later jobs finish sooner, so completion order is scrambled.
            try await Task.sleep(for: .microseconds((200 - job) * 20))
            running.withLockedValue { $0.now -= 1 }
            return job * 2
        } consume: { job, output in
            #expect(output == job * 2)
            consumed.append(job)
        }
        #expect(consumed == Array(0..<200))
        #expect(running.withLockedValue { $0.most } <= 4)
    }

    @Test func aFailureStopsThePipeline() async {
        struct Failure: Error {}
        await #expect(throws: Failure.self) {
            try await Pipeline.run(0..<100, width: 3) { job in
                if job == 10 { throw Failure() }
                return job
            } consume: { _, _ in }
        }
    }
}
