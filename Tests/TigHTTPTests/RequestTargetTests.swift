import Foundation
import Testing
import TigAddress
@testable import TigHTTP
import TigStore

@Suite struct RequestTargetTests {
    let hex = "181210f8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3b"

    @Test func routesKnownPaths() throws {
        #expect(try RequestTarget(parsing: "/").route == .store)
        #expect(try RequestTarget(parsing: "/healthz").route == .healthz)
        #expect(try RequestTarget(parsing: "/readyz").route == .readyz)
        #expect(try RequestTarget(parsing: "/metrics").route == .metrics)
        #expect(try RequestTarget(parsing: "/\(hex).tig").route == .block(BlockAddress(hex: hex)!))
        #expect(try RequestTarget(parsing: "/\(hex).tig?burst=1").route == .block(BlockAddress(hex: hex)!))
    }

    @Test(arguments: [
        "/../etc/passwd", "/./\("a").tig", "/%2e%2e/etc/passwd", "/%2E%2E%2Fapikey",
        "/181210F8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3b.tig",
        "/181210f8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3.tig",
        "/181210f8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3bb.tig",
        "/181210f8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3b",
        "/181210f8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3b.tig/",
        "/x/../181210f8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3b.tig",
        "http://evil/", "*",
    ])
    func refusesMalformedPaths(_ uri: String) {
        #expect(throws: TargetError.badForm) { try RequestTarget(parsing: uri) }
    }

    @Test(arguments: ["/randomfileunauthorized", "/apikey", "/index.html", "/healthz/x"])
    func unknownPathsAreNotFound(_ uri: String) {
        #expect(throws: TargetError.unknown) { try RequestTarget(parsing: uri) }
    }

    @Test func parsesFlagsAndValues() throws {
        let query = try RequestTarget(parsing: "/?format=http://h:7777*&setifnot=1&append=0&take=1&burst=true&chtimes=0&apikey=k%20y&Content-Type=text/plain").query
        #expect(query.format == "http://h:7777*")
        #expect(query.setIfNot)
        #expect(!query.append)
        #expect(query.take)
        #expect(query.burst)
        #expect(!query.touch)
        #expect(query.apiKey == "k y")
        #expect(query.contentType == "text/plain")
    }

    @Test func keepsInvalidEscapesAndDecodesPlusAsSpace() throws {
        #expect(try RequestTarget(parsing: "/?format=%s%n*").query.format == "%s%n*")
        #expect(try RequestTarget(parsing: "/?format=*%0A").query.format == "*\n")
        #expect(try RequestTarget(parsing: "/?format=a+b*").query.format == "a b*")
        #expect(try RequestTarget(parsing: "/?format=a%2Bb*").query.format == "a+b*")
        #expect(try RequestTarget(parsing: "/?format=%").query.format == "%")
    }

    @Test func formatReplacesOnlyTheFirstStar() {
        #expect(formatted("/p.tig", with: nil) == "/p.tig")
        #expect(formatted("/p.tig", with: "http://h*") == "http://h/p.tig")
        #expect(formatted("/p.tig", with: "*,*") == "/p.tig,*")
        #expect(formatted("/p.tig", with: "%s%n") == "%s%n")
        #expect(formatted("/p.tig", with: "") == "")
    }

    @Test func percentEncodingRoundTrips() {
        let text = "a key/with spaces&=%"
        #expect(QueryParameters.percentDecoded(Substring(QueryParameters.percentEncoded(text))) == text)
    }
}

@Suite struct MediaTypeTests {
    @Test(arguments: ["text/plain", "application/octet-stream", "text/html; charset=utf-8", "a/b;x=\"quoted; value\"", "image/svg+xml"])
    func acceptsMediaTypes(_ text: String) {
        #expect(MediaType.isValid(text))
    }

    @Test(arguments: ["text", "text/", "/plain", "text/plain\r\nX-Injected: 1", "text/plain; charset", "te xt/plain", "text/plain;", ""])
    func refusesAnythingElse(_ text: String) {
        #expect(!MediaType.isValid(text))
    }
}

@Suite struct PresentedKeyTests {
    @Test func theQueryKeyWinsOverTheHeader() {
        #expect(APIKeyAuthority.presentedKey(query: "q", authorization: "Bearer h") == "q")
        #expect(APIKeyAuthority.presentedKey(query: nil, authorization: "Bearer h") == "h")
    }

    /// Found by tig-fuzz: a Character search for the colon missed it when
    /// the password began with a combining mark (`:` + U+031C is one grapheme).
    @Test func theBasicPasswordIsEverythingAfterTheFirstColonByte() {
        for password in ["s3cr3t", "\u{31C}peg", "a:b", ""] {
            let header = "Basic " + Data(("user:" + password).utf8).base64EncodedString()
            #expect(APIKeyAuthority.presentedKey(query: nil, authorization: header) == password)
        }
    }
}
