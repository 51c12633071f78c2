import Testing
@testable import TigCommandLine

@Suite struct DurationTextTests {
    @Test func numbersWithAUnit() {
        #expect(DurationText.parse("250ms") == .milliseconds(250))
        #expect(DurationText.parse("2s") == .seconds(2))
        #expect(DurationText.parse("10m") == .seconds(600))
        #expect(DurationText.parse("1.5h") == .seconds(5400))
        #expect(DurationText.parse("0s") == .zero)
        for bad in ["", "s", "10", "10 s", "10sec", "+1s", "1h30m", "1e3s", "inf"] {
            #expect(DurationText.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func formatsTheShortestExactForm() {
        #expect(DurationText.format(.seconds(600)) == "10m")
        #expect(DurationText.format(.seconds(7200)) == "2h")
        #expect(DurationText.format(.milliseconds(250)) == "250ms")
        #expect(DurationText.format(.seconds(90)) == "90s")
        #expect(DurationText.format(.zero) == "0s")
        for text in ["10m", "250ms", "25s", "1h"] {
            #expect(DurationText.format(DurationText.parse(text)!) == text)
        }
    }

    @Test func durationFlagsRefuseNegativeValues() {
        #expect(DurationArgument(argument: "-1s") == nil)
        #expect(DurationArgument(argument: "5s")?.duration == .seconds(5))
    }
}

@Suite struct ByteSizeArgumentTests {
    @Test func binarySuffixes() {
        #expect(ByteSizeArgument(argument: "128MiB")?.bytes == 128 << 20)
        #expect(ByteSizeArgument(argument: "1G")?.bytes == 1 << 30)
        #expect(ByteSizeArgument(argument: "64K")?.bytes == 64 << 10)
        #expect(ByteSizeArgument(argument: "1000")?.bytes == 1000)
        #expect(ByteSizeArgument(argument: "0")?.bytes == 0)
        #expect(ByteSizeArgument(bytes: 128 << 20).defaultValueDescription == "128MiB")
    }

    @Test(arguments: ["", "-1M", "1.5M", "12TB", "MiB", "99999999999999999999G"])
    func refusesOtherText(_ text: String) {
        #expect(ByteSizeArgument(argument: text) == nil)
    }
}

@Suite struct HostPortTests {
    @Test func parsesHostsAndPorts() {
        #expect(HostPort.parse("127.0.0.1:7777")! == ("127.0.0.1", 7777))
        #expect(HostPort.parse("[::1]:443")! == ("::1", 443))
        #expect(HostPort.parse(":8080")! == ("", 8080))
        #expect(HostPort.parse("tig-0.tig-headless:7777")! == ("tig-0.tig-headless", 7777))
    }

    @Test(arguments: ["7777", "host:", "host:70000", "host:port"])
    func refusesOtherText(_ text: String) {
        #expect(HostPort.parse(text) == nil)
    }
}

@Suite struct LogfmtTests {
    @Test func valuesThatWouldSplitALineAreQuoted() {
        #expect(LogfmtLogHandler.quoted("plain") == "plain")
        #expect(LogfmtLogHandler.quoted("") == "\"\"")
        #expect(LogfmtLogHandler.quoted("two words") == "\"two words\"")
        #expect(LogfmtLogHandler.quoted("a=b") == "\"a=b\"")
        #expect(LogfmtLogHandler.quoted("say \"hi\"\nbye") == "\"say \\\"hi\\\"\\nbye\"")
    }
}
