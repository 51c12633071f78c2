import Testing
import TigAddress
@testable import TigHTTP

@Suite struct ListenerTests {
    private let block = Route.block(BlockAddress.random())

    @Test func thePublicPortServesOnlyTheBlockAPIToClients() {
        #expect(Listener.blocks.serves(block, method: .read, fromPeer: false))
        #expect(Listener.blocks.serves(block, method: .write, fromPeer: false))
        #expect(Listener.blocks.serves(.store, method: .write, fromPeer: false), "storing a content block")
        for route in [Route.store, .healthz, .readyz, .metrics] {
            #expect(!Listener.blocks.serves(route, method: .read, fromPeer: false), "\(route) is for the admin port")
        }
    }

    @Test func peersAnnounceAndListOnThePublicPort() {
        #expect(Listener.blocks.serves(.healthz, method: .read, fromPeer: true))
        #expect(Listener.blocks.serves(.store, method: .read, fromPeer: true))
        #expect(!Listener.blocks.serves(.metrics, method: .read, fromPeer: true))
        #expect(!Listener.blocks.serves(.readyz, method: .read, fromPeer: true))
    }

    @Test func theAdminPortServesOperationsAndNoBlocks() {
        for route in [Route.store, .healthz, .readyz, .metrics] {
            #expect(Listener.admin.serves(route, method: .read, fromPeer: false))
        }
        #expect(!Listener.admin.serves(block, method: .read, fromPeer: false))
        #expect(!Listener.admin.serves(block, method: .write, fromPeer: false))
        #expect(!Listener.admin.serves(.store, method: .write, fromPeer: false), "no writes on the admin port")
    }
}
