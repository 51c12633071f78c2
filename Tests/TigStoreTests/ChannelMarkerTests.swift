import Testing
import TigAddress
@testable import TigStore

@Suite struct ChannelMarkerTests {
    let target = "/c63cd29b0514d989f36eefc57955bb4473e4f4e465d23741063a620a9ca07318.tig"

    @Test func parsesBothKinds() throws {
        let address = try #require(BlockAddress(path: target))
        #expect(ChannelMarker(value: Array("Write only channel to tig \(target)".utf8)) == .writeOnly(target: address))
        #expect(ChannelMarker(value: Array("Read only channel to tig \(target)".utf8)) == .readOnly(target: address))
        #expect(ChannelMarker.writeOnly(target: address).value == "Write only channel to tig \(target)")
    }

    @Test(arguments: [
        "Write only channel to tig /c63cd29b.tig",
        "write only channel to tig /c63cd29b0514d989f36eefc57955bb4473e4f4e465d23741063a620a9ca07318.tig",
        "Read only channel to tig /c63cd29b0514d989f36eefc57955bb4473e4f4e465d23741063a620a9ca07318.tig\n",
        "Read only channel to tig  /c63cd29b0514d989f36eefc57955bb4473e4f4e465d23741063a620a9ca07318.tig",
    ])
    func onlyTheExactValueIsAMarker(_ text: String) {
        #expect(ChannelMarker(value: Array(text.utf8)) == nil)
    }
}
