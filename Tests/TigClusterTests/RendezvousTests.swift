import Testing
import TigAddress
@testable import TigCluster
import TigHTTP
import TigStore

@Suite struct RendezvousTests {
    let members = (1...5).map { Peer(host: "10.0.0.\($0)", port: 7777) }
    let addresses = (0..<5000).map { _ in BlockAddress.random() }

    @Test func everyPodRanksTheSameWayWhateverTheOrderItKnowsTheMembersIn() {
        for address in addresses.prefix(200) {
            #expect(Rendezvous.ranked(members, for: address) == Rendezvous.ranked(members.reversed(), for: address))
            #expect(Rendezvous.winner(among: members.shuffled(), for: address) == Rendezvous.ranked(members, for: address).first)
        }
    }

    @Test func theScoreIsAFixedFunction() {
        // A different process must compute the same placement.
        let address = BlockAddress(hex: "181210f8f9c779c26da1d9b2075bde0127302ee0e3fca38c9a83f5b1dd8e5d3b")!
        #expect(Rendezvous.score(of: Peer(host: "10.0.0.1", port: 7777), for: address) == 5_975_484_220_852_327_955)
    }

    @Test func addressesSpreadEvenly() {
        var counts: [Peer: Int] = [:]
        for address in addresses {
            counts[Rendezvous.winner(among: members, for: address)!, default: 0] += 1
        }
        for member in members {
            #expect((800...1200).contains(counts[member] ?? 0), "each of 5 members wins about a fifth")
        }
    }

    @Test func onlyTheLeavingMembersAddressesMove() {
        let remaining = Array(members.dropLast())
        for address in addresses {
            let before = Rendezvous.winner(among: members, for: address)!
            let after = Rendezvous.winner(among: remaining, for: address)!
            if before != members.last! {
                #expect(before == after)
            }
        }
    }
}
