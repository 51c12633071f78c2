import Testing
@testable import TigOperator

@Suite struct PrometheusTextTests {
    let exposition = """
        # HELP tig_requests_total Requests by method and code
        # TYPE tig_requests_total counter
        tig_requests_total{method="GET",code="200"} 120
        tig_requests_total{method="PUT",code="200"} 30 1700000000000
        tig_requests_total{method="GET",code="404",note="a } and a \\" inside"} 5
        tig_requests_total_created 1.7e9
        tig_bytes_received_total 1e3
        tig_bytes_sent_total 2500.5
        tig_request_duration_seconds_bucket{le="+Inf"} 155
        tig_requests_total{method="GET",code="500"} NaN
        """

    @Test func requestsSumEverySeries() {
        #expect(PrometheusText.sum(of: OperatorConfig.Work.requests.metricNames, in: exposition) == 155)
    }

    @Test func bytesAddReceivedAndSent() {
        #expect(PrometheusText.sum(of: OperatorConfig.Work.bytes.metricNames, in: exposition) == 3500.5)
    }

    @Test func absentMetricIsNoMeasurementNotZero() {
        #expect(PrometheusText.sum(of: ["tig_requests_total"], in: "# nothing here\nother_total 3\n") == nil)
        #expect(PrometheusText.sum(of: ["tig_requests_total"], in: "tig_requests_total 0\n") == 0)
    }

    @Test func aDeclaredFamilyWithoutSeriesIsZeroWork() {
        let idle = "# HELP tig_requests_total Requests\n# TYPE tig_requests_total counter\ntig_blocks 0\n"
        #expect(PrometheusText.sum(of: ["tig_requests_total"], in: idle) == 0)
    }

    @Test func malformedLinesAreSkipped() {
        let text = "tig_requests_total{method=\"GET\" 7\ntig_requests_total abc\ntig_requests_total 4\n"
        #expect(PrometheusText.sum(of: ["tig_requests_total"], in: text) == 4)
    }
}
