import Foundation
@testable import KubeClient
import Testing

@Suite struct PodCacheTests {
    func pod(_ uid: String, name: String? = nil, rv: String) -> Pod {
        Pod(metadata: ObjectMeta(name: name ?? "pod-\(uid)", uid: uid, resourceVersion: rv))
    }

    @Test func listThenEventsKeepOnePodPerUID() {
        var cache = PodCache()
        cache.replace(with: PodList(metadata: ListMeta(resourceVersion: "10"), items: [pod("a", rv: "5"), pod("b", rv: "6")]))
        #expect(cache.resourceVersion == "10")
        #expect(cache.apply(.added(pod("c", rv: "11"))) == .applied)
        // A replayed event after a reconnect replaces, never duplicates.
        #expect(cache.apply(.added(pod("c", rv: "11"))) == .applied)
        #expect(cache.apply(.modified(pod("a", rv: "12"))) == .applied)
        #expect(cache.apply(.deleted(pod("b", rv: "13"))) == .applied)
        #expect(cache.pods.keys.sorted() == ["a", "c"])
        #expect(cache.pods["a"]?.metadata.resourceVersion == "12")
        #expect(cache.resourceVersion == "13")
    }

    @Test func aNameReusedByANewPodIsAnotherPod() {
        var cache = PodCache()
        cache.replace(with: PodList(metadata: ListMeta(resourceVersion: "1"), items: [pod("old", name: "tig-0", rv: "1")]))
        _ = cache.apply(.deleted(pod("old", name: "tig-0", rv: "2")))
        _ = cache.apply(.added(pod("new", name: "tig-0", rv: "3")))
        #expect(cache.pods.keys.sorted() == ["new"])
    }

    @Test func bookmarksAdvanceTheResourceVersionOnly() {
        var cache = PodCache()
        cache.replace(with: PodList(metadata: ListMeta(resourceVersion: "10"), items: [pod("a", rv: "5")]))
        #expect(cache.apply(.bookmark(resourceVersion: "20")) == .applied)
        #expect(cache.resourceVersion == "20")
        #expect(cache.pods.count == 1)
        _ = cache.apply(.bookmark(resourceVersion: nil))
        #expect(cache.resourceVersion == "20")
    }

    @Test func goneMeansListAgainAndARelistForgetsWhatWasDeletedMeanwhile() {
        var cache = PodCache()
        cache.replace(with: PodList(metadata: ListMeta(resourceVersion: "10"), items: [pod("a", rv: "5"), pod("b", rv: "6")]))
        #expect(cache.apply(.error(Status(reason: "Expired", code: 410))) == .expired)
        cache.replace(with: PodList(metadata: ListMeta(resourceVersion: "30"), items: [pod("b", rv: "6"), pod("c", rv: "25")]))
        #expect(cache.pods.keys.sorted() == ["b", "c"])
        #expect(cache.resourceVersion == "30")
    }

    @Test func otherErrorsAreFailures() {
        var cache = PodCache()
        #expect(cache.apply(.error(Status(code: 500))) == .failed(Status(code: 500)))
    }
}

@Suite struct LineSplitterTests {
    @Test func linesSplitAcrossChunksAreJoined() {
        var splitter = LineSplitter()
        #expect(splitter.append(Array("{\"a\":".utf8)).isEmpty)
        #expect(splitter.append(Array("1}\n{\"b\"".utf8)) == [Array("{\"a\":1}".utf8)])
        #expect(splitter.append(Array(":2}\n\n{\"c\":3}\n".utf8)) == [Array("{\"b\":2}".utf8), Array("{\"c\":3}".utf8)])
        #expect(splitter.append([]).isEmpty)
    }
}

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 5, baseDelay: 0.2, maxDelay: 2, maxRetryAfter: 30)

    @Test func delaysDoubleWithJitterUpToTheCap() {
        #expect(policy.delay(afterAttempt: 0, retryAfter: nil, random: 0) == 0.1)
        #expect(policy.delay(afterAttempt: 0, retryAfter: nil, random: 0.999) < 0.2)
        #expect(policy.delay(afterAttempt: 3, retryAfter: nil, random: 0) == 0.8)
        #expect(policy.delay(afterAttempt: 10, retryAfter: nil, random: 0.999) <= 2)
        #expect(policy.delay(afterAttempt: 62, retryAfter: nil, random: 0) == 1)
    }

    @Test func retryAfterIsHonouredWithinReason() {
        #expect(policy.delay(afterAttempt: 4, retryAfter: 3, random: 0.5) == 3)
        #expect(policy.delay(afterAttempt: 0, retryAfter: 3600, random: 0.5) == 30)
        #expect(RetryPolicy.retryAfter(HTTPResponse(status: 429, headers: ["retry-after": " 2 "])) == 2)
        #expect(RetryPolicy.retryAfter(HTTPResponse(status: 429, headers: ["retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"])) == nil)
    }

    @Test func whatIsRetried() {
        #expect([429, 500, 502, 503, 504].allSatisfy(RetryPolicy.isRetryable(status:)))
        #expect(![400, 401, 403, 404, 409, 410, 422, 501].contains(where: RetryPolicy.isRetryable(status:)))
        #expect(TransportError(code: 7, message: "refused", cancelled: false).isTransient)
        #expect(!TransportError(code: 60, message: "bad certificate", cancelled: false).isTransient)
        #expect(!TransportError(code: 42, message: "cancelled", cancelled: true).isTransient)
    }
}

@Suite struct YAMLLoaderTests {
    @Test func marksAreOneBased() throws {
        let root = try #require(try YAMLLoader.load("a: 1\nb:\n  - x\n  - \"y\"\n"))
        let b = try #require(root["b"])
        #expect(b.mark == YAMLMark(line: 3, column: 3))
        let items = try b.sequence()
        guard case .scalar("y", plain: false) = items[1].value else { Issue.record("\(items[1])"); return }
        #expect(try root["a"]?.int() == 1)
    }

    @Test func emptyDocumentsAreNil() throws {
        #expect(try YAMLLoader.load("") == nil)
        #expect(try YAMLLoader.load("# only a comment\n") == nil)
    }

    @Test func syntaxErrorsCarryTheirPosition() {
        #expect(throws: YAMLError.self) { try YAMLLoader.load("a: [1, 2\nb: 3\n") }
        do {
            _ = try YAMLLoader.load("a: 1\n b: 2\n")
        } catch {
            #expect(error.mark.line == 2)
        }
    }

    @Test func aliasesResolveAndCyclesAreBounded() throws {
        let root = try #require(try YAMLLoader.load("base: &b {x: 1}\ncopy: *b\n"))
        #expect(try root["copy"]?["x"]?.int() == 1)
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: YAMLError.self) { try YAMLLoader.load(deep) }
    }
}
