"""What an operator at the keyboard and a log pipeline see (issue 14): log
lines a pipeline can parse, flags written as Go durations and Kubernetes
sizes, and start-up errors that name the address or the file."""

import json
import os
import signal
import re
import socket
import subprocess

import pytest
import requests

from .server import TIG_BIN, TigProcess, free_port, metric, poll

RFC3339_MS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def stopped_log(*args, env=None):
    """The log of a server that started with `args`, served one PUT and was stopped."""
    tig = TigProcess(*args, env=env)
    with tig:
        assert requests.put(tig.url, data=b"logged").status_code == 200
    return tig.log_text().splitlines()


def test_logfmt_lines_start_with_time_level_logger_and_event():
    lines = stopped_log()
    assert lines, "no log lines"
    for line in lines:
        assert re.match(rf"ts={RFC3339_MS} level=(trace|debug|info|notice|warning|error|critical) logger=tig event=\S+",
                        line), line
    listening = next(line for line in lines if " event=listening " in line)
    assert "retention=10m" in listening
    assert any(" event=stopped" in line for line in lines)


@pytest.mark.parametrize("how", [("--log-format", "json"), ("env", "json")], ids=["flag", "TIG_LOG_FORMAT"])
def test_json_lines_parse_with_the_same_fields(how):
    lines = stopped_log(env={"TIG_LOG_FORMAT": "json"}) if how[0] == "env" else stopped_log(*how)
    events = [json.loads(line) for line in lines]
    assert all(re.fullmatch(RFC3339_MS, event["ts"]) and event["logger"] == "tig" for event in events)
    assert list(events[0])[:4] == ["ts", "level", "logger", "event"]
    listening = next(event for event in events if event["event"] == "listening")
    assert listening["level"] == "info" and listening["retention"] == "10m"


def test_an_unknown_log_format_is_a_usage_error(tmp_path):
    result = subprocess.run([TIG_BIN, "serve", "--data", str(tmp_path), "--log-format", "xml"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 64 and "--log-format" in result.stderr


def test_go_durations_and_kubernetes_sizes_are_taken():
    args = ("--retention", "1h30m", "--max-block-size", "1Ki", "--cache-size", "32Mi", "--min-free-space", "1M",
            "--idle-timeout", "1m30s")
    tig = TigProcess(*args)
    with tig:
        assert requests.put(tig.url, data=b"x" * 1024).status_code == 200
        assert requests.put(tig.url, data=b"x" * 1025).status_code == 413
    listening = next(line for line in tig.log_text().splitlines() if " event=listening " in line)
    assert "retention=90m" in listening


def test_a_port_in_use_is_named(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([TIG_BIN, "serve", "--listen", f"127.0.0.1:{port}", "--data", str(tmp_path)],
                                capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr, result.stderr


def test_an_unreadable_certificate_is_named(tmp_path):
    key, certificate = tmp_path / "tig.key", tmp_path / "tig.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                    "-keyout", str(key), "-out", str(certificate), "-days", "1"], check=True, capture_output=True)
    missing = tmp_path / "missing.crt"
    garbage = tmp_path / "garbage.crt"
    garbage.write_text("not a certificate\n")
    for cert in [missing, garbage, key]:
        result = subprocess.run([TIG_BIN, "serve", "--listen", "127.0.0.1:0", "--data", str(tmp_path),
                                 "--tls-cert", str(cert), "--tls-key", str(key)],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode != 0, result.stderr
        assert re.search(rf"cannot load the TLS certificate[^\n]* {re.escape(str(cert))}\b", result.stderr), result.stderr


def test_metrics_name_the_build_the_process_and_the_capacity():
    version = subprocess.run([TIG_BIN, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    release, revision = re.fullmatch(r"(\S+) \(revision (\S+)\)", version).groups()
    with TigProcess("--max-data-size", "64MiB") as tig:
        for _ in range(50):
            assert requests.put(tig.url, data=b"x" * 4096).status_code == 200
        text = requests.get(tig.admin_url + "/metrics").text
        assert f'tig_build_info{{version="{release}",revision="{revision}"}} 1' in text.replace(", ", ",")
        for name in ("process_resident_memory_bytes", "process_open_fds", "process_max_fds", "process_start_time_seconds",
                     "tig_data_free_bytes"):
            assert metric(tig.admin_url, name) > 0, name
        assert metric(tig.admin_url, "process_resident_memory_bytes") < 1 << 30
        assert metric(tig.admin_url, "tig_data_limit_bytes") == 64 << 20
        size = metric(tig.admin_url, "tig_data_size_bytes")
        assert metric(tig.admin_url, "tig_data_free_bytes") < size
        assert size == os.statvfs(tig.data).f_blocks * os.statvfs(tig.data).f_frsize
        assert "# TYPE process_cpu_seconds_total counter" in text


def test_readiness_and_draining_are_gauges_too():
    """What /readyz answers is also a metric, so an alert can name an unready
    pod that is not merely draining."""
    with TigProcess("--shutdown-delay", "60s") as tig:
        assert (metric(tig.admin_url, "tig_ready"), metric(tig.admin_url, "tig_draining")) == (1, 0)
        assert metric(tig.admin_url, "tig_drain_left_blocks") == 0
        tig.process.send_signal(signal.SIGTERM)
        poll(lambda: metric(tig.admin_url, "tig_draining") == 1, message="tig_draining 1 after SIGTERM")
        assert requests.get(tig.admin_url + "/readyz").status_code == 503
        assert metric(tig.admin_url, "tig_ready") == 0
        tig.process.send_signal(signal.SIGTERM)
        assert tig.process.wait(timeout=30) == 0


def test_a_drain_that_leaves_blocks_is_reported_before_the_pod_exits(tmp_path):
    """A stopping pod whose only peer is down cannot hand its blocks over:
    it says how many it leaves in tig_drain_left_blocks and keeps its admin
    port up for --drain-report-delay so a scrape sees that, also after a
    --shutdown-delay ran out (a second signal ends the wait)."""
    with socket.socket() as dead:
        dead.bind(("127.0.0.1", 0))
        peer = f"127.0.0.1:{dead.getsockname()[1]}"
    with TigProcess("--peers", peer, "--peer-timeout", "200ms", "--drain-timeout", "3s", "--shutdown-delay", "300ms",
                    "--drain-report-delay", "120s") as tig:
        paths = [requests.put(tig.url, data=f"left {i}".encode()).text for i in range(3)]
        assert all(path.endswith(".tig") for path in paths), paths
        tig.process.send_signal(signal.SIGTERM)
        poll(lambda: " event=drain-incomplete " in tig.log_text(), timeout=30, message="the drain's end")
        assert re.search(r" event=drain-incomplete .*\bleft=3\b", tig.log_text()), tig.log_text()
        assert tig.process.poll() is None, "the pod waits for a scrape"
        assert metric(tig.admin_url, "tig_drain_left_blocks") == 3
        tig.process.send_signal(signal.SIGTERM)
        assert tig.process.wait(timeout=30) == 0


def test_operations_answer_on_the_admin_port_only():
    """SPEC §5: the public port serves only the block API, so an ingress in
    front of it exposes no metrics, probes or listing; the admin port serves
    those and no blocks."""
    with TigProcess(env={"APIKEY": "k"}) as tig:
        path = requests.put(tig.url + "/?apikey=k", data=b"public").text
        for route in ("/metrics", "/healthz", "/readyz", "/?apikey=k"):
            assert requests.get(tig.url + route).status_code == 404, route
            assert requests.get(tig.admin_url + route).status_code == 200, route
        assert requests.get(tig.admin_url + "/?apikey=k").text == path + "\n"
        assert requests.get(tig.admin_url + path).status_code == 404, "no blocks on the admin port"
        assert requests.put(tig.admin_url + "/?apikey=k", data=b"x").status_code == 404, "no writes on the admin port"
        assert requests.get(tig.url + path).content == b"public"
    listening = next(line for line in tig.log_text().splitlines() if " event=listening " in line)
    assert f"admin=127.0.0.1:{tig.admin_port}" in listening


def test_the_admin_port_defaults_to_9090_and_follows_the_environment(tmp_path):
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 9090)) == 0:
            pytest.fail("something else listens on 9090 here")
    with TigProcess(data=str(tmp_path), admin_port=9090, pass_admin_flag=False):
        assert requests.get("http://127.0.0.1:9090/readyz").status_code == 200
    port = free_port()
    with TigProcess(data=str(tmp_path), admin_port=port, pass_admin_flag=False, env={"TIG_ADMIN_LISTEN": f"127.0.0.1:{port}"}):
        assert requests.get(f"http://127.0.0.1:{port}/healthz").status_code == 200


def test_an_admin_port_in_use_is_named(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([TIG_BIN, "serve", "--listen", f"127.0.0.1:{free_port()}", "--admin-listen", f"127.0.0.1:{port}",
                                 "--data", str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr, result.stderr
