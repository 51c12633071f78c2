import NIOHTTP1
import Testing
import TigAddress
@testable import TigCluster
import TigHTTP
import TigStore

@Suite struct PlacementTests {
    let members = (1...8).map { Peer(host: "10.0.0.\($0)", port: 7777) }
    let addresses = (0..<4000).map { _ in BlockAddress.random() }

    @Test func theHomesAreTheTopOfTheRanking() {
        for address in addresses.prefix(100) {
            let homes = Placement.homes(of: address, among: members, replicas: 3)
            #expect(homes == Array(Rendezvous.ranked(members, for: address).prefix(3)))
        }
    }

    @Test func aJoinMovesAboutOneInNAndOnlyToTheNewcomer() {
        let newcomer = Peer(host: "10.0.0.9", port: 7777)
        var moved = 0
        for address in addresses {
            let before = Placement.homes(of: address, among: members, replicas: 1)
            let after = Placement.homes(of: address, among: members + [newcomer], replicas: 1)
            if before != after {
                moved += 1
                #expect(after == [newcomer], "a block moves only to the pod that joined")
            }
        }
        #expect((300...600).contains(moved), "about a ninth of 4000 blocks move, not \(moved)")
    }

    @Test func aLocalHomeIsRecognised() {
        let address = addresses[0]
        let ranked = Rendezvous.ranked(members, for: address)
        let asPrimary = Placement(homes: Array(ranked.prefix(2)), local: ranked[0])
        #expect(asPrimary.isHome && asPrimary.remotePrimary == nil && asPrimary.remoteHomes == [ranked[1]])
        let asOther = Placement(homes: Array(ranked.prefix(2)), local: ranked[5])
        #expect(!asOther.isHome && asOther.remotePrimary == ranked[0] && asOther.remoteHomes == Array(ranked.prefix(2)))
    }
}

@Suite struct PeerCredentialsTests {
    let credentials = PeerCredentials(secret: Array("a cluster secret of some length".utf8))

    @Test func aProofIsAcceptedForItsOwnRequestOnly() {
        let proof = credentials.proof(method: .GET, uri: "/x.tig", at: 1_000)
        #expect(credentials.accepts(proof, method: .GET, uri: "/x.tig", now: 1_030))
        #expect(!credentials.accepts(proof, method: .PUT, uri: "/x.tig", now: 1_030), "bound to the method")
        #expect(!credentials.accepts(proof, method: .GET, uri: "/y.tig", now: 1_030), "bound to the URI")
        #expect(!credentials.accepts(proof, method: .GET, uri: "/x.tig", now: 1_061), "expired")
    }

    @Test func anotherSecretsProofIsRefused() {
        let stranger = PeerCredentials(secret: Array("another secret entirely, guessed".utf8))
        let forged = stranger.proof(method: .GET, uri: "/x.tig", at: 1_000)
        #expect(!credentials.accepts(forged, method: .GET, uri: "/x.tig", now: 1_000))
        #expect(!credentials.accepts("1000 -", method: .GET, uri: "/x.tig", now: 1_000))
        #expect(!credentials.accepts("garbage", method: .GET, uri: "/x.tig", now: 1_000))
    }

    @Test func withoutASecretOnlyTheFormIsChecked() {
        let open = PeerCredentials(secret: nil)
        #expect(open.accepts(open.proof(method: .GET, uri: "/", at: 5), method: .GET, uri: "/", now: 5))
        #expect(!open.accepts("5 deadbeef", method: .GET, uri: "/", now: 5))
    }

    /// Found by tig-fuzz: `now - seconds` trapped on a client's seconds.
    @Test func extremeSecondsAreRefusedNotATrap() {
        let open = PeerCredentials(secret: nil)
        #expect(!open.accepts("-9223372036854775808 -", method: .GET, uri: "/", now: 1_700_000_000))
        #expect(!open.accepts("9223372036854775807 -", method: .GET, uri: "/", now: -1_700_000_000))
        #expect(!credentials.accepts("-9223372036854775808 00", method: .GET, uri: "/", now: 1))
    }
}
