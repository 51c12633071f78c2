"""HTTP details: headers, HEAD, methods, content types, listing, health, metrics, TLS."""

import hashlib
import os
import signal
import subprocess
import threading

import requests

from .server import TigProcess, make_certificate, metric, poll


def test_get_headers(tig):
    path = requests.put(tig.url, data=b"<html>").text
    answer = requests.get(tig.url + path)
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["cache-control"] == "public, max-age=600, immutable"  # SPEC §3
    assert answer.headers["x-content-type-options"] == "nosniff"
    typed = requests.get(tig.url + path + "?Content-Type=text/plain;%20charset=utf-8")
    assert typed.headers["content-type"] == "text/plain; charset=utf-8"
    assert requests.get(tig.url + "/" + "0" * 64 + ".tig").headers["x-content-type-options"] == "nosniff"


def test_head_reports_presence_and_length(tig):
    body = os.urandom(100_000)
    path = requests.put(tig.url, data=body).text
    answer = requests.head(tig.url + path)
    assert answer.status_code == 200 and answer.headers["content-length"] == str(len(body))
    assert answer.headers["x-tig-kind"] == "content"
    assert requests.head(tig.url + "/" + "1" * 64 + ".tig").status_code == 404
    slot = "/" + os.urandom(32).hex() + ".tig"
    requests.put(tig.url + slot, data=b"12345").raise_for_status()
    answer = requests.head(tig.url + slot)
    assert answer.headers["x-tig-kind"] == "slot" and answer.headers["content-length"] == "5"
    channel = "/" + os.urandom(32).hex() + ".tig"
    requests.put(tig.url + channel, data=f"Read only channel to tig {slot}").raise_for_status()
    answer = requests.head(tig.url + channel)
    assert answer.status_code == 200 and answer.headers["x-tig-kind"] == "channel"
    assert "content-length" not in answer.headers, "HEAD never follows a channel"


def test_large_blocks_round_trip(tig):
    body = os.urandom(20 << 20)
    path = requests.put(tig.url, data=body).text
    assert path == "/" + hashlib.sha256(body).hexdigest() + ".tig"
    assert requests.get(tig.url + path).content == body


def test_listing_needs_the_key(tmp_path):
    with TigProcess() as tig:
        assert requests.get(tig.admin_url + "/").status_code == 403, "no key configured: nobody lists"
    with TigProcess(env={"APIKEY": "k"}) as tig:
        first = requests.put(tig.url + "/?apikey=k", data=b"first").text
        second = requests.put(tig.url + "/?apikey=k", data=b"second").text
        os.utime(tig.data / first[1:], (1, 1))
        assert requests.get(tig.admin_url + "/").status_code == 401
        assert requests.get(tig.admin_url + "/?apikey=nope").status_code == 401
        assert requests.get(tig.url + "/?apikey=k").status_code == 404, "the public port does not list"
        listing = requests.get(tig.admin_url + "/?apikey=k&format=http://h*")
        assert listing.text == f"http://h{second}\nhttp://h{first}\n"


def test_api_key_file_rules(tmp_path):
    with TigProcess() as tig:
        key_file = tig.data / "apikey"
        key_file.write_text("filekey\nignored second line\n")
        key_file.chmod(0o600)
        assert requests.put(tig.url, data=b"x").status_code == 401
        assert requests.put(tig.url + "/?apikey=filekey", data=b"x").status_code == 200
        key_file.chmod(0o666)
        assert requests.put(tig.url + "/?apikey=filekey", data=b"y").status_code == 401, "a writable key file fails closed"
        key_file.unlink()
        assert requests.put(tig.url, data=b"z").status_code == 200, "no key, no check"


def test_the_environment_key_wins_and_reads_never_need_it(tmp_path):
    with TigProcess(env={"APIKEY": "envkey"}) as tig:
        (tig.data / "apikey").write_text("filekey\n")
        (tig.data / "apikey").chmod(0o600)
        assert requests.put(tig.url + "/?apikey=filekey", data=b"x").status_code == 401
        path = requests.put(tig.url + "/?apikey=envkey", data=b"x").text
        assert requests.get(tig.url + path).content == b"x"
        slot = "/" + os.urandom(32).hex() + ".tig"
        assert requests.put(tig.url + slot, data=b"v").status_code == 401
        assert requests.delete(tig.url + path).status_code == 401


def test_health_readiness_and_metrics(tig):
    assert requests.get(tig.admin_url + "/healthz").status_code == 200
    assert requests.get(tig.admin_url + "/readyz").status_code == 200
    requests.put(tig.url, data=b"counted").raise_for_status()
    text = requests.get(tig.admin_url + "/metrics").text
    for name in ["tig_requests_total", "tig_request_duration_seconds_bucket", "tig_bytes_received_total",
                 "tig_bytes_sent_total", "tig_blocks", "tig_stored_bytes", "tig_swept_total",
                 "tig_forwarded_total", "tig_peers"]:
        assert f"\n{name}" in text, name
    assert metric(tig.admin_url, "tig_requests_total", '{method="PUT",code="200"}') == 1
    # Series exist once used (GET 200 from the start: an idle pod's work is 0);
    # probes and scrapes are not work.
    assert metric(tig.admin_url, "tig_requests_total", '{method="GET",code="200"}') == 0, "probes and scrapes are not work"
    assert 'tig_requests_total{method="HEAD"' not in text and 'code="100"' not in text
    assert 'tig_request_duration_seconds_count{method="PUT"} 1' in text
    requests.request("PATCH", tig.url + "/")
    requests.get(tig.url + "/" + "0" * 64 + ".tig")
    again = requests.get(tig.admin_url + "/metrics").text
    assert 'tig_requests_total{method="OTHER",code="' in again, "unknown methods share one label value"
    assert metric(tig.admin_url, "tig_requests_total", '{method="GET",code="404"}') == 1
    assert metric(tig.admin_url, "tig_blocks") == 1
    assert metric(tig.admin_url, "tig_stored_bytes") == len(b"counted")


def test_readyz_fails_when_the_data_directory_is_not_writable(tmp_path):
    mount = tmp_path / "data"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], check=True)
    try:
        with TigProcess(data=str(mount)) as tig:
            path = requests.put(tig.url, data=b"kept readable").text
            assert requests.get(tig.admin_url + "/readyz").status_code == 200
            subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
            assert requests.get(tig.admin_url + "/readyz").status_code == 503
            assert requests.get(tig.admin_url + "/healthz").status_code == 200
            assert requests.put(tig.url, data=b"refused").status_code == 500
            assert requests.get(tig.url + path + "?chtimes=0").content == b"kept readable"
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_sigterm_makes_the_pod_unready_and_finishes_the_request_in_flight():
    with TigProcess("--shutdown-delay", "30s") as tig:
        body = os.urandom(4 << 20)
        release = threading.Event()
        answers = []

        def slow_body():
            yield body[:1 << 20]
            release.wait()
            yield body[1 << 20:]

        upload = threading.Thread(target=lambda: answers.append(requests.put(tig.url, data=slow_body())))
        upload.start()
        poll(lambda: metric(tig.admin_url, "tig_bytes_received_total") >= 1 << 20, message="upload under way")
        tig.process.send_signal(signal.SIGTERM)
        poll(lambda: requests.get(tig.admin_url + "/readyz").status_code == 503, message="unready after SIGTERM")
        assert requests.get(tig.admin_url + "/healthz").status_code == 200, "still alive while draining"
        release.set()
        upload.join()
        assert answers[0].status_code == 200
        assert answers[0].text == "/" + hashlib.sha256(body).hexdigest() + ".tig"
        assert requests.get(tig.url + answers[0].text).content == body
        # A second signal skips the rest of the shutdown delay.
        tig.process.send_signal(signal.SIGTERM)
        assert tig.process.wait(timeout=30) == 0


def test_tls(tmp_path):
    key, cert = make_certificate(tmp_path)
    with TigProcess("--tls-key", str(key), "--tls-cert", str(cert), scheme="https") as tig:
        body = os.urandom(3 << 20)
        path = requests.put(tig.url, data=body, verify=str(cert)).text
        assert path == "/" + hashlib.sha256(body).hexdigest() + ".tig"
        assert requests.get(tig.url + path, verify=str(cert)).content == body
        small = requests.put(tig.url, data=b"small", verify=str(cert)).text
        assert requests.get(tig.url + small, verify=str(cert)).content == b"small"
        try:
            requests.get(tig.url.replace("https", "http") + small, timeout=5)
            plain_http_refused = False
        except requests.RequestException:
            plain_http_refused = True
        assert plain_http_refused, "the TLS port does not speak plain HTTP"


def test_memory_does_not_grow_with_body_size():
    with TigProcess("--max-block-size", "1GiB") as tig:
        check_memory_while_receiving(tig)


def check_memory_while_receiving(tig):
    def peak_rss_kib():
        for line in open(f"/proc/{tig.process.pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

    requests.put(tig.url, data=b"warm up").raise_for_status()
    before = peak_rss_kib()
    chunk = os.urandom(1 << 20)
    answer = requests.put(tig.url, data=(chunk for _ in range(512)))
    assert answer.status_code == 200
    assert peak_rss_kib() - before < 64 * 1024, "receiving 512 MiB grew the server by 64 MiB or more"


def test_settings_from_the_environment_and_flags_winning_over_them():
    with TigProcess(env={"TIG_MAX_BLOCK_SIZE": "1KiB", "TIG_RETENTION": "1s"}) as tig:
        assert requests.put(tig.url, data=b"x" * 1025).status_code == 413
        path = requests.put(tig.url, data=b"x" * 1024).text
        poll(lambda: not (tig.data / path[1:]).exists(), timeout=10, message="swept after TIG_RETENTION")
    with TigProcess("--max-block-size", "2KiB", env={"TIG_MAX_BLOCK_SIZE": "1KiB"}) as tig:
        assert requests.put(tig.url, data=b"x" * 2048).status_code == 200


def test_a_bad_setting_stops_the_start_with_a_reason(tmp_path):
    from .server import TIG_BIN
    result = subprocess.run([TIG_BIN, "serve", "--data", str(tmp_path)], env={"TIG_RETENTION": "soon"},
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "TIG_RETENTION=soon" in result.stderr
