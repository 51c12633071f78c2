import Foundation
import Testing
@testable import TigCommandLine

@Suite struct DurationTextTests {
    @Test func numbersWithAUnit() {
        #expect(DurationText.parse("250ms") == .milliseconds(250))
        #expect(DurationText.parse("2s") == .seconds(2))
        #expect(DurationText.parse("10m") == .seconds(600))
        #expect(DurationText.parse("1.5h") == .seconds(5400))
        #expect(DurationText.parse("0s") == .zero)
        #expect(DurationText.parse("0") == .zero)
        for bad in ["", "s", "10", "10 s", "10sec", "+1s", "1e3s", "inf", "1.2.3s", "1h30", "h1", "-", "1s-2s"] {
            #expect(DurationText.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func goStyleSequencesAndSmallUnits() {
        #expect(DurationText.parse("1h30m") == .seconds(5400))
        #expect(DurationText.parse("2h45m30.5s") == .milliseconds(9_930_500))
        #expect(DurationText.parse("1m0.25s") == .milliseconds(60_250))
        #expect(DurationText.parse(".5s") == .milliseconds(500))
        #expect(DurationText.parse("1500us") == .microseconds(1500))
        #expect(DurationText.parse("1µs") == .microseconds(1))
        #expect(DurationText.parse("300ns") == .nanoseconds(300))
        #expect(DurationText.parse("-1m30s") == .seconds(-90))
    }

    @Test func durationsBeyondTenYearsAreRefusedNotATrap() {
        #expect(DurationText.parse("87600h") == DurationText.maximum)
        for huge in ["87600h1s", "99999999999h", "1e308h", String(repeating: "9", count: 400) + "h"] {
            #expect(DurationText.parse(huge) == nil, "\(huge)")
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
    @Test func kubernetesQuantities() {
        #expect(ByteSizeArgument(argument: "256Mi")?.bytes == 256 << 20)
        #expect(ByteSizeArgument(argument: "1Gi")?.bytes == 1 << 30)
        #expect(ByteSizeArgument(argument: "64Ki")?.bytes == 64 << 10)
        #expect(ByteSizeArgument(argument: "2Ti")?.bytes == 2 << 40)
        #expect(ByteSizeArgument(argument: "500M")?.bytes == 500_000_000)
        #expect(ByteSizeArgument(argument: "1G")?.bytes == 1_000_000_000)
        #expect(ByteSizeArgument(argument: "8k")?.bytes == 8000)
        #expect(ByteSizeArgument(argument: "1000")?.bytes == 1000)
        #expect(ByteSizeArgument(argument: "0")?.bytes == 0)
    }

    @Test func theSuffixesWrittenOutAsBytes() {
        #expect(ByteSizeArgument(argument: "128MiB")?.bytes == 128 << 20)
        #expect(ByteSizeArgument(argument: "12TB")?.bytes == 12_000_000_000_000)
        #expect(ByteSizeArgument(argument: "1kB")?.bytes == 1000)
        #expect(ByteSizeArgument(argument: "512B")?.bytes == 512)
    }

    @Test func defaultsAreShownInTheBinaryForm() {
        #expect(ByteSizeArgument(bytes: 128 << 20).defaultValueDescription == "128Mi")
        #expect(ByteSizeArgument(bytes: 1024).defaultValueDescription == "1Ki")
        #expect(ByteSizeArgument(bytes: 1000).defaultValueDescription == "1000")
        #expect(ByteSizeArgument(bytes: 0).defaultValueDescription == "0")
    }

    @Test(arguments: ["", "-1M", "1.5M", "64K", "1mi", "MiB", "1 Mi", "99999999999999999999G", "9223372036854775807Ki"])
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

@Suite struct EventLogLineTests {
    @Test func valuesThatWouldSplitALineAreQuoted() {
        #expect(EventLogHandler.quoted("plain") == "plain")
        #expect(EventLogHandler.quoted("") == "\"\"")
        #expect(EventLogHandler.quoted("two words") == "\"two words\"")
        #expect(EventLogHandler.quoted("a=b") == "\"a=b\"")
        #expect(EventLogHandler.quoted("say \"hi\"\nbye") == "\"say \\\"hi\\\"\\nbye\"")
    }

    /// 2026-11-21T14:00:00.125Z (exact in binary floating point).
    static let time = Date(timeIntervalSince1970: 1_795_269_600.125)

    @Test func logfmtStartsWithTimeLevelLoggerAndEvent() {
        let line = EventLogHandler.line(.logfmt, at: Self.time, level: .notice, label: "tig", event: "draining",
                                        fields: ["signal": "15", "delay": "0s", "ts": "shadow", "peer": "a b"])
        #expect(line == "ts=2026-11-21T14:00:00.125Z level=notice logger=tig event=draining delay=0s peer=\"a b\" signal=15")
    }

    @Test func millisecondsAreTruncatedNotRoundedUpToTheNextSecond() {
        #expect(EventLogHandler.timestamp(Date(timeIntervalSince1970: 1_795_269_599.9996)) == "2026-11-21T13:59:59.999Z")
        #expect(EventLogHandler.timestamp(Date(timeIntervalSince1970: 1_795_269_600)) == "2026-11-21T14:00:00.000Z")
    }

    @Test func jsonLinesParseAndKeepEveryField() throws {
        let line = EventLogHandler.line(.json, at: Self.time, level: .error, label: "tig-operator", event: "scale-failed",
                                        fields: ["error": "a \"quoted\"\nline\u{1}", "level": "shadow", "é": "ü"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object == ["ts": "2026-11-21T14:00:00.125Z", "level": "error", "logger": "tig-operator",
                           "event": "scale-failed", "error": "a \"quoted\"\nline\u{1}", "é": "ü"])
        #expect(line.hasPrefix("{\"ts\":\"2026-11-21T14:00:00.125Z\",\"level\":\"error\","))
        #expect(!line.contains("\n"))
    }
}
