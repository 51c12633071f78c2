#!/usr/bin/env python3
"""tig benchmark driver. Run it through bench/run.sh (which installs nginx,
redis and wrk when missing); see bench/README.md for the knobs.

It starts tig (TIG_BIN), nginx serving the same blocks as static files and
Redis, all on 127.0.0.1 in a temporary directory on tmpfs, drives them with
wrk / redis-benchmark / a streaming Python client, stops everything it
started and prints a Markdown report (also written to bench/out/latest.md,
raw numbers to bench/out/latest.json).

Layout, so that later benchmarks slot in:
  - `Bench` owns the temp dir, the started processes and the results, and has
    the shared helpers: start_tig / start_nginx / start_redis / stop,
    wrk(), stream_put(), RSS sampling, sanity-checked PUT/GET.
  - each benchmark is one `bench_*` function that stores numbers in
    `b.res[...]`, plus one `rows_*` function that turns them into table rows;
    both are listed in BENCHMARKS.
  - not implemented yet, to be added the same way:
      "cluster" (issue 3): 5 tig pods through e2e/local's netns harness;
        GET p50/p99 served by a peer vs a local GET, drain blocks/s and MB/s.
        start_tig() takes `prefix` (e.g. ["ip", "netns", "exec", NAME]),
        `host` and `extra` flags (--peers/--cluster) for that.
  - "client" (issue 6) is `bench_client`: `tig push`/`tig pull` of a 1 GiB
    tree vs `tar | curl -T` to the same server, bytes uploaded after a 1% change.
"""

import argparse
import hashlib
import http.client
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WRK_DIR = HERE / "wrk"
KIB = 1 << 10
MIB = 1 << 20


# ---------------------------------------------------------------- config

def env_num(name, default, kind=int):
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        sys.exit(f"bench: {name}={raw!r} is not a number")


@dataclass
class Config:
    tig_bin: str = os.environ.get("TIG_BIN") or str(REPO / ".build/release/tig")
    tig_args: list = field(default_factory=lambda: shlex.split(os.environ.get("TIG_ARGS", "")))
    seconds: float = env_num("BENCH_SECONDS", 10, float)
    warmup: float = env_num("BENCH_WARMUP", 2, float)
    connections: int = env_num("BENCH_CONNECTIONS", 64)
    threads: int = env_num("BENCH_THREADS", 2)
    latency_seconds: float = env_num("BENCH_LATENCY_SECONDS", 0, float)  # 0: BENCH_SECONDS
    put_1m_seconds: float = env_num("BENCH_PUT_1M_SECONDS", 5, float)
    big_mib: int = env_num("BENCH_BIG_MIB", 256)
    big_repeat: int = env_num("BENCH_BIG_REPEAT", 3)
    rss_mib: int = env_num("BENCH_RSS_MIB", 1024)
    client_mib: int = env_num("BENCH_CLIENT_MIB", 1024)
    drain_blocks: int = env_num("BENCH_DRAIN_BLOCKS", 10_000)
    openssl_seconds: int = env_num("BENCH_OPENSSL_SECONDS", 3)
    tmp_base: str = os.environ.get("BENCH_TMP", "/dev/shm")
    out_dir: str = os.environ.get("BENCH_OUT", str(HERE / "out"))
    keep_tmp: bool = os.environ.get("BENCH_KEEP_TMP", "") not in ("", "0")

    def __post_init__(self):
        if not self.latency_seconds:
            self.latency_seconds = self.seconds
        self.threads = max(1, min(self.threads, self.connections))


class BenchError(Exception):
    pass


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------- processes

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A process this run started; stopped by its own pid only."""

    def __init__(self, name, argv, log_path, env=None, kind=""):
        self.name, self.argv, self.log_path, self.kind = name, argv, Path(log_path), kind
        self.stopping = False  # set once the bench itself stops it
        self.reported = False  # an outside interference was noted already
        with open(self.log_path, "wb") as logf:
            self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                                      stderr=subprocess.STDOUT, env=env)
        self.pid = self.p.pid
        self.exit_code = None

    def alive(self):
        return self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=20):
        self.stopping = True
        if self.alive():
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"{self.name} (pid {self.pid}) ignored {sig.name} for {timeout}s: SIGKILL")
                self.p.kill()
                self.p.wait()
        self.exit_code = self.p.returncode
        return self.exit_code

    def log_tail(self, lines=15):
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


@dataclass
class Server:
    kind: str
    proc: Proc
    port: int
    dir: Path
    host: str = "127.0.0.1"
    admin_port: int | None = None  # tig's metrics, probes and listing
    scheme: str = "http"

    @property
    def url(self):
        return f"{self.scheme}://{self.host}:{self.port}"


# ------------------------------------------------------------- HTTP bits

def http_request(port, method, path, body=None, host="127.0.0.1", timeout=60):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def block_path(data_or_hex):
    if isinstance(data_or_hex, str):
        return f"/{data_or_hex}.tig"
    return f"/{hashlib.sha256(data_or_hex).hexdigest()}.tig"


# ----------------------------------------------------------- system info

def cmd_out(argv, timeout=10, need_ok=True):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = ((r.stdout or "") + (r.stderr or "")).strip()
    return text if text and (r.returncode == 0 or not need_ok) else None


def first_line(text):
    return text.splitlines()[0].strip() if text else "?"


def fs_type(path):
    best, fstype = "", "?"
    real = os.path.realpath(path)
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            mnt = parts[1].replace("\\040", " ")
            if (real == mnt or real.startswith(mnt.rstrip("/") + "/")) and len(mnt) > len(best):
                best, fstype = mnt, parts[2]
    return fstype


def cpu_busy(seconds=1.0):
    """Share of all CPU time that was busy over `seconds` (from /proc/stat)."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]  # total, idle + iowait
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 1 - (i1 - i0) / max(1, t1 - t0)


def system_info(cfg):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / MIB:.1f} GiB"
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    git = cmd_out(["git", "-C", str(REPO), "describe", "--always", "--dirty"]) or "no commit"
    tig_bin = Path(cfg.tig_bin)
    try:
        st = tig_bin.stat()
        tig_file = (f"{tig_bin} ({st.st_size / MIB:.1f} MiB, built "
                    f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(st.st_mtime))})")
        newest = max((f.stat().st_mtime for f in (REPO / "Sources").rglob("*")
                      if f.is_file()), default=0)
        if st.st_mtime < newest and tig_bin.resolve().is_relative_to(REPO / ".build"):
            tig_file += " **older than the newest file in Sources/: rebuild?**"
    except OSError:
        tig_file = f"{tig_bin} (missing)"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "memory": mem,
        "kernel": platform.release(),
        "loadavg_at_start": " ".join(load),
        "cpu_busy_at_start": cpu_busy(),
        "tmp_fs": f"{cfg.tmp_base} ({fs_type(cfg.tmp_base)})",
        "tig_bin": tig_file,
        "tig_version": first_line(cmd_out([cfg.tig_bin, "--version"], timeout=5)),
        "repo": f"{REPO} @ {git}",
        "nginx": first_line(cmd_out(["nginx", "-v"])),
        "redis": first_line(cmd_out(["redis-server", "--version"])),
        "wrk": first_line(cmd_out(["wrk", "-v"], need_ok=False)),
        "openssl": first_line(cmd_out(["openssl", "version"])),
        "python": platform.python_version(),
    }


# ------------------------------------------------------------ RSS sampling

def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, val = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                out[key] = int(val.split()[0])  # KiB
    return out


def reset_hwm(pid):
    """Linux >= 4.0: writing 5 to clear_refs resets VmHWM to the current RSS."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class RssSampler(threading.Thread):
    def __init__(self, pid, interval=0.005):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = {}
        self.samples = 0
        self._done = threading.Event()

    def run(self):
        while not self._done.is_set():
            try:
                st = proc_status(self.pid)
            except OSError:
                return
            for k, v in st.items():
                self.peak[k] = max(self.peak.get(k, 0), v)
            self.samples += 1
            time.sleep(self.interval)

    def finish(self):
        self._done.set()
        self.join()
        return self.peak


# ------------------------------------------------------------------ Bench

class Bench:
    def __init__(self, cfg):
        self.cfg = cfg
        self.tmp = Path(tempfile.mkdtemp(prefix="tig-bench.", dir=cfg.tmp_base))
        os.chmod(self.tmp, 0o755)  # nginx workers (nobody) must traverse it
        self.procs = []
        self.res = {}       # benchmark numbers, by key
        self.runs = []      # every load-generator run, for the details table
        self.errors = {}    # benchmark name -> message
        self.notes = []
        self._shared = None
        self.tig_server_header = None
        self.current = ""  # the benchmark running now

    # -- processes

    def start(self, kind, argv, port, workdir, env=None, host="127.0.0.1"):
        name = f"{kind}:{port}"
        proc = Proc(name, argv, workdir / f"{kind}.log", env=env, kind=kind)
        self.procs.append(proc)
        deadline = time.monotonic() + 20
        while True:
            if not proc.alive():
                raise BenchError(f"{kind} exited with {proc.p.returncode} at start-up:\n"
                                 f"{' '.join(map(shlex.quote, argv))}\n{proc.log_tail()}")
            try:
                socket.create_connection((host, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    proc.stop()
                    raise BenchError(f"{kind} did not listen on {host}:{port} within 20 s:\n"
                                     f"{proc.log_tail()}")
                time.sleep(0.05)
        return Server(kind, proc, port, workdir, host)

    def workdir(self, tag):
        d = Path(tempfile.mkdtemp(prefix=f"{tag}.", dir=self.tmp))
        os.chmod(d, 0o755)
        return d

    def start_tig(self, tag, extra=(), prefix=(), host="127.0.0.1", env=None):
        """A fresh `tig serve` with its own empty data dir on tmpfs."""
        wd = self.workdir(f"tig-{tag}")
        data = wd / "data"
        data.mkdir()
        port, admin_port = free_port(), free_port()
        max_block = max(self.cfg.big_mib, self.cfg.rss_mib) + 1
        argv = [*prefix, self.cfg.tig_bin, "serve", "--listen", f"{host}:{port}",
                "--admin-listen", f"{host}:{admin_port}", "--data", str(data), "--retention", "10m",
                "--max-block-size", f"{max_block}MiB", *self.cfg.tig_args, *extra]
        srv = self.start("tig", argv, port, wd, env=env, host=host)
        srv.data = data
        srv.admin_port = admin_port
        return srv

    def start_nginx(self, root, tls=None):
        """nginx serving `root`; with `tls` (certificate, key) over HTTPS."""
        wd = self.workdir("nginx")
        port = free_port()
        ssl = "" if tls is None else f" ssl;\n        ssl_certificate {tls[0]};\n        ssl_certificate_key {tls[1]}"
        conf = NGINX_CONF.format(dir=wd, port=port, root=root, ssl=ssl)
        (wd / "nginx.conf").write_text(conf)
        return self.start("nginx", ["nginx", "-p", str(wd), "-c", str(wd / "nginx.conf"),
                                    "-e", str(wd / "error.log")], port, wd)

    def start_redis(self):
        wd = self.workdir("redis")
        port = free_port()
        return self.start("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(port),
                                    "--save", "", "--appendonly", "no", "--dir", str(wd),
                                    "--daemonize", "no", "--protected-mode", "yes",
                                    "--logfile", ""], port, wd)

    def check_procs(self, during):
        """Note servers that died, or (tig) logged a signal, while the bench
        had not stopped them: something else on the machine interfered and
        the numbers of `during` are suspect."""
        for proc in self.procs:
            if proc.stopping or proc.reported:
                continue
            if not proc.alive():
                proc.reported = True
                self.notes.append(f"**{proc.name} (pid {proc.pid}) exited without the bench stopping it, code "
                                  f"{proc.p.returncode} during `{during}`**: {proc.log_tail(3)}")
            elif proc.kind == "tig":
                hit = re.search(r"^.*signal=\d+.*$", proc.log_tail(50), re.M)
                if hit:
                    proc.reported = True
                    self.notes.append(f"**{proc.name} (pid {proc.pid}) got a signal the bench "
                                      f"did not send, during `{during}`**: {hit.group(0)}")

    def stop(self, srv, remove=True):
        self.check_procs(self.current)
        code = srv.proc.stop()
        if srv.kind == "tig" and code not in (0, None):
            self.notes.append(f"tig on port {srv.port} exited with {code} after SIGTERM "
                              f"(expected 0): {srv.proc.log_tail(3)}")
        if remove and not self.cfg.keep_tmp:
            shutil.rmtree(srv.dir, ignore_errors=True)

    def cleanup(self):
        for proc in reversed(self.procs):
            if proc.alive():
                proc.stop()
        if self.cfg.keep_tmp:
            log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- tig checks

    def tig_put(self, srv, data):
        status, headers, body = http_request(srv.port, "PUT", "/", body=data, host=srv.host)
        self.tig_server_header = self.tig_server_header or headers.get("Server", "(none)")
        want = block_path(data)
        if status != 200 or body != want.encode():
            raise BenchError(f"tig PUT of {len(data)} bytes answered {status} {body[:120]!r}, "
                             f"expected 200 {want!r}")
        return want

    def check_get(self, srv, path, data, who):
        status, headers, body = http_request(srv.port, "GET", path, host=srv.host)
        if status != 200 or body != data:
            raise BenchError(f"{who} GET {path} answered {status} with {len(body)} bytes, "
                             f"expected 200 with the {len(data)} stored bytes")
        return headers

    def shared(self):
        """tig and nginx serving the same 1 KiB and 1 MiB blocks (started once,
        shared by the GET and latency benchmarks)."""
        if self._shared:
            return self._shared
        tig = self.start_tig("get")
        root = self.workdir("nginx-root")
        blocks = {}
        for key, size in (("1k", KIB), ("1m", MIB)):
            data = os.urandom(size)
            path = self.tig_put(tig, data)
            f = root / path[1:]
            f.write_bytes(data)
            os.chmod(f, 0o444)
            blocks[key] = (path, data)
        nginx = self.start_nginx(root)
        for key, (path, data) in blocks.items():
            h = self.check_get(tig, path, data, "tig")
            self.tig_server_header = self.tig_server_header or h.get("Server", "(none)")
            self.check_get(nginx, path, data, "nginx")
        self._shared = (tig, nginx, {k: v[0] for k, v in blocks.items()})
        return self._shared

    # -- load generators

    def wrk(self, label, server, url, *, seconds, conns, threads, script="report.lua",
            env=None, warmup=None, body_size=None, before_run=None):
        """One wrk run (after a discarded warm-up run); `before_run` is called
        between the two. Returns and records the parsed numbers."""
        warmup = self.cfg.warmup if warmup is None else warmup
        base_env = dict(os.environ, BENCH_WRK_DIR=str(WRK_DIR))
        if body_size:
            base_env["BENCH_BODY_SIZE"] = str(body_size)
        base_env.update(env or {})

        def run(secs, tag):
            e = dict(base_env, BENCH_NONCE=f"{tag}-{time.time_ns()}")
            argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{secs:g}s", "--latency",
                    "--timeout", "10s", "-s", str(WRK_DIR / script), url]
            r = subprocess.run(argv, capture_output=True, text=True, env=e,
                               timeout=secs + 120)
            m = re.search(r"^WRK_RESULT (\{.*\})$", r.stdout, re.M)
            if r.returncode != 0 or not m:
                raise BenchError(f"wrk failed ({r.returncode}): {r.stdout[-800:]}{r.stderr[-800:]}")
            return json.loads(m.group(1)), r.stdout

        if warmup > 0:
            run(warmup, "warmup")
        if before_run:
            before_run()
        raw, text = run(seconds, "run")
        secs = raw["duration_us"] / 1e6
        errors = sum(raw[k] for k in raw if k.startswith("err_"))
        result = dict(raw, label=label, server=server, conns=conns, threads=threads,
                      seconds=secs, rps=raw["requests"] / secs,
                      wire_mbps=raw["bytes"] / secs / 1e6,
                      bytes_per_resp=raw["bytes"] / max(1, raw["requests"]),
                      errors=errors)
        if body_size:
            result["payload_mbps"] = result["rps"] * body_size / 1e6
        self.runs.append(result)
        log(f"  {label} / {server}: {result['rps']:,.0f} req/s, p50 {raw['p50_us']} µs, "
            f"p99 {raw['p99_us']} µs, errors {errors}")
        if errors:
            self.notes.append(f"{label} / {server}: {errors} errors of {raw['requests']} "
                              f"requests ({', '.join(f'{k[4:]}={raw[k]}' for k in raw if k.startswith('err_') and raw[k])})")
        return result

    def stream_put(self, srv, size, chunk_size=MIB, path="/", check=True):
        """PUT `path` with a `size`-byte body streamed from memory
        (Content-Length, not chunked); the body is new random bytes each call
        and, with `check`, the answer must be its block path. Returns the
        seconds from the first byte sent to the end of the answer."""
        chunk = os.urandom(chunk_size)
        n, rest = divmod(size, chunk_size)
        want = None
        if check:  # hashed before the clock starts
            h = hashlib.sha256()
            for _ in range(n):
                h.update(chunk)
            h.update(chunk[:rest])
            want = block_path(h.hexdigest())

        def body():
            view = memoryview(chunk)
            for _ in range(n):
                yield view
            if rest:
                yield view[:rest]

        conn = http.client.HTTPConnection(srv.host, srv.port, timeout=600)
        try:
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            t0 = time.perf_counter()
            conn.request("PUT", path, body=body(), headers={
                "Content-Length": str(size), "Content-Type": "application/octet-stream"})
            resp = conn.getresponse()
            answer = resp.read()
            elapsed = time.perf_counter() - t0
        finally:
            conn.close()
        if check:
            self.tig_server_header = self.tig_server_header or resp.getheader("Server", "(none)")
        if resp.status != 200 or (check and answer != want.encode()):
            raise BenchError(f"PUT {path} of {size} bytes answered {resp.status} "
                             f"{answer[:120]!r}, expected 200 {want or ''!r}")
        return elapsed


NGINX_CONF = """\
# nginx as a well-tuned static file server for the same blocks tig serves
worker_processes 2;
worker_rlimit_nofile 65536;
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{
    worker_connections 8192;
}}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 300s;
    keepalive_requests 10000000;
    open_file_cache max=10000 inactive=300s;
    open_file_cache_valid 300s;
    open_file_cache_min_uses 1;
    open_file_cache_errors on;
    etag off;
    server_tokens off;
    types {{ }}
    default_type application/octet-stream;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port} reuseport backlog=4096{ssl};
        root {root};
        location / {{
            # the headers tig sends, so both answers carry about the same bytes
            add_header Cache-Control no-store;
            add_header X-Content-Type-Options nosniff;
        }}
    }}
}}
"""


# ------------------------------------------------------------ benchmarks

def mean_of_passes(runs):
    """One result for several passes of the same run: the last pass's
    record with rates (and latency percentiles) averaged over all passes."""
    merged = dict(runs[-1], passes=len(runs))
    for key in ("rps", "payload_mbps", "wire_mbps", "p50_us", "p99_us", "user_us", "sys_us"):
        if all(key in run for run in runs):
            merged[key] = sum(run[key] for run in runs) / len(runs)
    return merged


def alternate(b, label, servers, path, size, passes=2, conns=None, threads=None, seconds=None):
    """`passes` runs per server, alternating tig and the reference (so a
    drift of the machine hits both), averaged."""
    c = b.cfg
    runs = {srv.kind: [] for srv in servers}
    for _ in range(passes):
        for srv in servers:
            pids = server_pids(srv)
            cpu = {}
            result = b.wrk(label, srv.kind, srv.url + path, seconds=seconds or c.seconds,
                           conns=conns or c.connections, threads=threads or c.threads, body_size=size,
                           before_run=lambda: cpu.update(start=cpu_ticks(pids)))
            user, system = (after - before for after, before in zip(cpu_ticks(pids), cpu["start"]))
            tick = os.sysconf("SC_CLK_TCK")
            result["user_us"] = user / tick / result["requests"] * 1e6
            result["sys_us"] = system / tick / result["requests"] * 1e6
            runs[srv.kind].append(result)
    return {kind: mean_of_passes(results) for kind, results in runs.items()}


def server_pids(srv):
    """The processes that serve: tig's one, or nginx's master and workers."""
    if srv.kind != "nginx":
        return [srv.proc.pid]
    master = srv.proc.pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [master, *map(int, children)]


def cpu_ticks(pids):
    """(user, system) clock ticks the processes have used so far."""
    user = system = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        user, system = user + int(fields[11]), system + int(fields[12])
    return user, system


def bench_get(b):
    """GET 1 KiB and 1 MiB: tig vs nginx, same bytes, same wrk settings."""
    tig, nginx, paths = b.shared()
    for key, size in (("1k", KIB), ("1m", MIB)):
        for kind, result in alternate(b, f"GET {key}", (tig, nginx), paths[key], size).items():
            b.res[f"get_{key}_{kind}"] = result


def bench_tls(b):
    """GET 1 KiB over TLS: tig (NIOSSL) and nginx (OpenSSL) with the same
    self-signed certificate and key, keep-alive (one handshake per connection)."""
    wd = b.workdir("tls")
    key, cert = wd / "tls.key", wd / "tls.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    tig = b.start_tig("tls", extra=("--tls-key", str(key), "--tls-cert", str(cert)))
    tig.scheme = "https"
    data = os.urandom(KIB)
    path = block_path(data)
    root = b.workdir("nginx-tls-root")
    (root / path[1:]).write_bytes(data)
    os.chmod(root / path[1:], 0o444)
    put = subprocess.run(["curl", "-sk", "--data-binary", f"@{root / path[1:]}", "-X", "PUT", tig.url + "/"],
                         capture_output=True, text=True, timeout=30)
    if put.stdout.strip() != path:
        raise BenchError(f"tig PUT over TLS answered {put.stdout!r}, expected {path}")
    nginx = b.start_nginx(root, tls=(cert, key))
    nginx.scheme = "https"
    try:
        for kind, result in alternate(b, "GET 1k TLS", (tig, nginx), path, KIB).items():
            b.res[f"tls_1k_{kind}"] = result
    finally:
        b.stop(tig)
        b.stop(nginx)


def open_idle_connections(port, count, path):
    """`count` keep-alive connections that each had one GET answered, then
    stay open and idle."""
    sockets = []
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer) < answer.index(b"\r\n\r\n") + 4 + KIB:
            chunk = s.recv(65536)
            if not chunk:
                raise BenchError(f"a connection to {port} closed before its answer")
            answer += chunk
        sockets.append(s)
    return sockets


def rss_kib(pids):
    return sum(proc_status(pid)["VmRSS"] for pid in pids)


def bench_idle(b):
    """RSS at idle and with BENCH_IDLE_CONNECTIONS (1,000) idle keep-alive
    connections open, tig vs nginx (master and workers)."""
    import resource
    count = env_num("BENCH_IDLE_CONNECTIONS", 1000)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * count + 256)), hard))
    tig, nginx, paths = b.shared()
    for srv, pids in ((tig, server_pids(tig)), (nginx, server_pids(nginx))):
        http_request(srv.port, "GET", paths["1k"])
        time.sleep(0.5)
        idle = rss_kib(pids)
        sockets = open_idle_connections(srv.port, count, paths["1k"])
        try:
            time.sleep(1.0)
            loaded = rss_kib(pids)
        finally:
            for s in sockets:
                s.close()
        b.res[f"idle_{srv.kind}"] = {"connections": count, "idle_kib": idle, "loaded_kib": loaded}
        log(f"  {srv.kind}: RSS idle {idle / KIB:.1f} MiB, with {count} idle connections {loaded / KIB:.1f} MiB")


def bench_latency(b):
    """Single connection GET 1 KiB: wrk -c1 -t1, percentiles in µs."""
    c = b.cfg
    tig, nginx, paths = b.shared()
    for srv in (tig, nginx):
        b.res[f"lat_1k_{srv.kind}"] = b.wrk(
            "GET 1k c=1", srv.kind, srv.url + paths["1k"], seconds=c.latency_seconds,
            conns=1, threads=1, body_size=KIB)


def bench_redis(b):
    """redis-benchmark SET/GET of a 1 KiB value, for context."""
    c = b.cfg
    r = b.start_redis()
    base = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(r.port), "-d", str(KIB),
            "-c", str(c.connections), "--threads", str(c.threads), "--csv"]

    def run(tests, n):
        out = subprocess.run([*base, "-t", tests, "-n", str(n)], capture_output=True,
                             text=True, timeout=c.seconds * 10 + 120)
        rows = {}
        for line in out.stdout.splitlines():
            cells = [x.strip('"') for x in line.split(",")]
            if len(cells) >= 7 and cells[0] in ("SET", "GET"):
                rows[cells[0]] = {"rps": float(cells[1]), "avg_ms": float(cells[2]),
                                  "p50_ms": float(cells[4]), "p99_ms": float(cells[6])}
        if not rows:
            raise BenchError(f"redis-benchmark printed nothing usable: {out.stdout[-500:]}"
                             f"{out.stderr[-500:]}")
        return rows

    # warm up and calibrate: redis-benchmark counts requests, not seconds
    cal = run("set,get", 100000)
    for test in ("SET", "GET"):
        n = max(20000, int(cal[test]["rps"] * c.seconds * 1.2))
        row = run(test.lower(), n)[test]
        row.update(label=f"redis {test} 1k", n=n)
        b.res[f"redis_{test.lower()}"] = row
        b.runs.append({"label": f"{test} 1k", "server": "redis", "conns": c.connections,
                       "threads": c.threads, "requests": n, "seconds": n / row["rps"],
                       "rps": row["rps"], "p50_us": row["p50_ms"] * 1000,
                       "p99_us": row["p99_ms"] * 1000, "lat_mean_us": row["avg_ms"] * 1000})
        log(f"  redis {test} 1k: {row['rps']:,.0f} req/s")
    b.stop(r)


def count_blocks(data):
    with os.scandir(data) as it:
        return sum(1 for e in it if e.name.endswith(".tig"))


def bench_put(b, key, size, seconds):
    c = b.cfg
    tig = b.start_tig(f"put-{key}")
    before = {}
    try:
        res = b.wrk(f"PUT {key}", "tig", tig.url + "/", seconds=seconds, conns=c.connections,
                    threads=c.threads, script="put.lua", body_size=size,
                    before_run=lambda: before.update(n=count_blocks(tig.data)))
        # every request carried a different body: the new blocks prove it
        # (PUTs still in flight when wrk stops may add up to one per connection)
        res["blocks_stored"] = count_blocks(tig.data) - before["n"]
        b.res[f"put_{key}_tig"] = res
        if res["blocks_stored"] < res["requests"]:
            b.notes.append(f"PUT {key}: only {res['blocks_stored']} new blocks for "
                           f"{res['requests']} answered PUTs (distinct bodies expected)")
    finally:
        b.stop(tig)


def bench_put_1k(b):
    """PUT 1 KiB, a distinct body per request (every PUT stores a new block)."""
    bench_put(b, "1k", KIB, b.cfg.seconds)


def bench_put_1m(b):
    """PUT 1 MiB, distinct bodies. Shorter by default: it fills tmpfs at GB/s."""
    bench_put(b, "1m", MIB, b.cfg.put_1m_seconds)


def openssl_sha256(seconds):
    out = subprocess.run(["openssl", "speed", "-evp", "sha256", "-bytes", "16384",
                          "-seconds", str(seconds), "-mr"], capture_output=True, text=True,
                         timeout=seconds + 60)
    m = re.search(r"^\+F:\d+:[^:]*:([0-9.]+)", out.stdout, re.M)
    if not m:
        raise BenchError(f"cannot read openssl speed output: {out.stdout[-500:]}{out.stderr[-300:]}")
    return float(m.group(1))  # bytes/s, 16384-byte blocks, one core


def bench_put_large(b):
    """One PUT of BENCH_BIG_MIB (256) MiB vs single-core openssl SHA-256."""
    c = b.cfg
    b.res["openssl_sha256_Bps"] = openssl_sha256(c.openssl_seconds)
    log(f"  openssl sha256 (16 KiB blocks, 1 core): {b.res['openssl_sha256_Bps'] / 1e6:,.0f} MB/s")
    size = c.big_mib * MIB
    times = []
    for i in range(c.big_repeat):
        tig = b.start_tig(f"put-big-{i}")  # fresh each time: never a duplicate
        try:
            times.append(b.stream_put(tig, size))
        finally:
            b.stop(tig)
        log(f"  PUT {c.big_mib} MiB #{i + 1}: {size / times[-1] / 1e6:,.0f} MB/s")
    # the same client against a server that only reads and drops the body
    wd = b.workdir("sink")
    port = free_port()
    sink = b.start("sink", [sys.executable, str(Path(__file__).resolve()), "--sink", str(port)],
                   port, wd)
    try:
        ceiling = max(size / b.stream_put(sink, size, check=False) for _ in range(2))
    finally:
        b.stop(sink)
    log(f"  upload client ceiling (into a sink that drops the body): {ceiling / 1e6:,.0f} MB/s")
    b.res["put_big"] = {"bytes": size, "seconds": times,
                        "median_Bps": size / statistics.median(times),
                        "best_Bps": size / min(times), "client_ceiling_Bps": ceiling}


def bench_rss(b):
    """Peak RSS of tig while it receives one BENCH_RSS_MIB (1024) MiB body."""
    c = b.cfg
    tig = b.start_tig("rss")
    try:
        pid = tig.proc.pid
        # one small round trip first so lazily created state is in the baseline
        path = b.tig_put(tig, os.urandom(KIB))
        http_request(tig.port, "GET", path)
        time.sleep(0.5)
        idle = proc_status(pid)
        hwm_reset = reset_hwm(pid)
        sampler = RssSampler(pid)
        sampler.start()
        try:
            secs = b.stream_put(tig, c.rss_mib * MIB)
        finally:
            peak = sampler.finish()
        final = proc_status(pid)
        peak_kib = max(peak.get("VmRSS", 0), final["VmHWM"] if hwm_reset else 0)
        b.res["rss"] = {
            "body_bytes": c.rss_mib * MIB, "seconds": secs,
            "idle_kib": idle["VmRSS"], "peak_kib": peak_kib,
            "growth_kib": peak_kib - idle["VmRSS"],
            "hwm_reset": hwm_reset, "samples": sampler.samples,
            "idle": idle, "peak_sampled": peak, "after": final,
        }
        log(f"  RSS idle {idle['VmRSS'] / KIB:.1f} MiB, peak {peak_kib / KIB:.1f} MiB "
            f"({c.rss_mib} MiB body at {c.rss_mib * MIB / secs / 1e6:,.0f} MB/s)")
    finally:
        b.stop(tig)


def timed(argv, who):
    """Seconds `argv` took; its stdout (stripped) alongside."""
    start = time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=3600)
    secs = time.monotonic() - start
    if r.returncode != 0:
        raise BenchError(f"{who} exited {r.returncode}: {r.stderr.strip()[-500:]}")
    return secs, r.stdout.strip()


def make_client_tree(root, total):
    """Half the bytes in 8 large files, half in 1 MiB files spread over 32
    directories; random content (nothing to compress or deduplicate)."""
    large, small = root / "large", root / "small"
    large.mkdir(parents=True)
    for i in range(8):
        with open(large / f"f{i}.bin", "wb") as f:
            for _ in range(total // 2 // 8 // MIB):
                f.write(os.urandom(MIB))
    for i in range(total // 2 // MIB):
        d = small / f"d{i % 32:02}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i}.bin").write_bytes(os.urandom(MIB))


def change_one_percent(root, total):
    """Rewrites 1% of the tree's bytes: half as whole 1 MiB files, half as
    one contiguous region in the middle of a large file."""
    half = max(MIB, total // 200)
    small = sorted((root / "small").rglob("*.bin"))
    for f in small[:: max(1, len(small) // (half // MIB))][: half // MIB]:
        f.write_bytes(os.urandom(MIB))
    big = root / "large" / "f3.bin"
    with open(big, "r+b") as f:
        f.seek(big.stat().st_size // 2)
        f.write(os.urandom(half))


def bench_client(b):
    """`tig push`/`pull` of a BENCH_CLIENT_MIB (1024) MiB tree vs `tar | curl -T`
    to the same server, and the bytes each uploads after a 1% change."""
    c = b.cfg
    total = c.client_mib * MIB
    tig = b.start_tig("client", extra=["--max-block-size", f"{c.client_mib + 64}MiB"])
    tig_bin, url = c.tig_bin, tig.url
    try:
        wd = b.workdir("client-tree")
        tree = wd / "tree"
        make_client_tree(tree, total)
        tar_up = ["bash", "-o", "pipefail", "-c", f"tar -C {tree} -cf - . | curl -sS --fail -T - {url}/"]

        secs, root = timed([tig_bin, "push", "--server", url, str(tree)], "tig push")
        res = {"bytes": total, "push_s": secs}
        log(f"  tig push {c.client_mib} MiB: {total / secs / 1e6:,.0f} MB/s")
        res["tar_push_s"], tar_path = timed(tar_up, "tar | curl -T")
        log(f"  tar | curl -T: {total / res['tar_push_s'] / 1e6:,.0f} MB/s")

        out = wd / "pulled"
        res["pull_s"], _ = timed([tig_bin, "pull", "--server", url, root, str(out)], "tig pull")
        shutil.rmtree(out)
        log(f"  tig pull: {total / res['pull_s'] / 1e6:,.0f} MB/s")
        out.mkdir()
        res["tar_pull_s"], _ = timed(["bash", "-o", "pipefail", "-c",
                                      f"curl -sS --fail {url}{tar_path} | tar -C {out} -xf -"], "curl | tar -x")
        shutil.rmtree(out)
        log(f"  curl | tar -x: {total / res['tar_pull_s'] / 1e6:,.0f} MB/s")

        res["repush_s"], _ = timed([tig_bin, "push", "--server", url, str(tree)], "tig push (unchanged)")
        change_one_percent(tree, total)
        received, puts = "tig_bytes_received_total", 'tig_requests_total{method="PUT",code="200"}'
        before, puts_before = metric_value(tig, received), metric_value(tig, puts)
        res["changed_push_s"], _ = timed([tig_bin, "push", "--server", url, str(tree)], "tig push (1% changed)")
        res["changed_uploaded"] = metric_value(tig, received) - before
        res["changed_puts"] = metric_value(tig, puts) - puts_before
        before = metric_value(tig, received)
        timed(tar_up, "tar | curl -T (1% changed)")
        res["tar_changed_uploaded"] = metric_value(tig, received) - before
        log(f"  after a 1% change: tig uploaded {res['changed_uploaded'] / MIB:,.1f} MiB in "
            f"{res['changed_puts']:.0f} PUTs, tar | curl {res['tar_changed_uploaded'] / MIB:,.1f} MiB")
        b.res["client"] = res
    finally:
        b.stop(tig)


def bench_cluster(b):
    """A 5-pod local cluster (e2e/local: network namespaces, dnsmasq): p50/p99
    of a GET answered by a peer versus one answered locally, and how fast a
    stopping pod hands BENCH_DRAIN_BLOCKS (10,000) blocks to the others."""
    c = b.cfg
    sys.path.insert(0, str(REPO))
    from e2e.local import cleanup
    from e2e.local.cluster import LocalCluster
    from e2e.local.names import Run, global_lock
    from e2e.local.pods import ServeOptions
    from e2e.scenarios.rendezvous import home

    cleanup.clean()
    with global_lock():
        run = Run()
    # No hot cache: the asking pod would answer the repeated GET from memory
    # after the first relay, and the row is about the relay.
    cluster = LocalCluster(run, ServeOptions(command=(str(c.tig_bin),), log_level="info",
                                             extra_args=("--hot-cache-size", "0")))
    try:
        pods = cluster.start_pods(5)
        holder, asker, drained = pods[0], pods[1], pods[2]

        def put(pod, data=None):
            host, port = cluster.url(pod).removeprefix("http://").rsplit(":", 1)
            return http_request(int(port), "PUT", "/", body=data or os.urandom(KIB), host=host)

        # A block whose home is `holder` (a PUT through any pod lands at the home).
        members = {cluster.member(pod): pod for pod in pods}
        while True:
            data = os.urandom(KIB)
            if members[home(list(members), hashlib.sha256(data).hexdigest())] == holder:
                break
        status, _, path = put(holder, data)
        if status != 200:
            raise BenchError(f"cluster PUT answered {status}")
        path = path.decode()
        for label, pod in (("local", holder), ("forwarded", asker)):
            cpu = {}
            result = b.wrk(
                "cluster GET 1k c=1", label, cluster.url(pod) + path, seconds=c.latency_seconds, conns=1, threads=1,
                body_size=KIB, before_run=lambda: cpu.update({p: cpu_ticks([cluster.pid(p)]) for p in (holder, asker)}))
            for role, p in (("asked", pod), ("holder", holder)):
                used = sum(cpu_ticks([cluster.pid(p)])) - sum(cpu[p])
                result[f"{role}_cpu_us"] = used / os.sysconf("SC_CLK_TCK") * 1e6 / max(1, result["requests"])
            b.res[f"cluster_{label}"] = result
        blocks = c.drain_blocks
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda _: put(drained), range(blocks)))
        cluster.kill(drained, signal.SIGTERM)
        cluster.wait_gone(drained, timeout=120)
        match = re.search(r"event=drained blocks=(\d+) bytes=(\d+) failed=(\d+) left=(\d+) milliseconds=(\d+)",
                          cluster.logs(drained))
        if not match:
            raise BenchError("the drained pod logged no drain")
        handed, size, failed, left, ms = map(int, match.groups())
        b.res["cluster_drain"] = {"blocks": handed, "bytes": size, "failed": failed, "left": left,
                                  "seconds": ms / 1000, "asked": blocks}
        log(f"  drain: {handed:,} blocks, {size / 1e6:,.1f} MB in {ms / 1000:.2f} s "
            f"({handed / max(ms, 1) * 1000:,.0f} blocks/s), failed {failed}, left {left}")
    finally:
        cluster.close()
        run.close()


def metric_value(srv, sample):
    status, _, body = http_request(srv.admin_port, "GET", "/metrics", host=srv.host)
    m = re.search(rf"^{re.escape(sample)} ([0-9.e+]+)$", body.decode(), re.M)
    if status != 200 or not m:
        raise BenchError(f"tig /metrics has no sample {sample}")
    return float(m.group(1))


# ----------------------------------------------------------------- table

@dataclass
class Row:
    what: str
    tig: str
    baseline: str = "—"
    base_value: str = "—"
    ratio: str = "—"
    target: str = "—"
    met: str = "—"


def f_rps(r):
    return f"{r['rps']:,.0f} req/s"


def f_mbps(x):
    return f"{x / 1e6:,.1f} MB/s"


def verdict(ok):
    return "yes" if ok else "**no**"


def ratio(a, b_):
    return f"{a / b_:.2f}×" if b_ else "—"


def rows_get(b):
    r, c, out = b.res, b.cfg, []
    cc = f"c={c.connections} t={c.threads}"
    t, n, rg = r.get("get_1k_tig"), r.get("get_1k_nginx"), r.get("redis_get")
    if t and n:
        out.append(Row(f"GET 1 KiB ({cc})", f"{f_rps(t)} · {t['payload_mbps']:,.1f} MB/s",
                       "nginx GET 1 KiB", f"{f_rps(n)} · {n['payload_mbps']:,.1f} MB/s",
                       ratio(t["rps"], n["rps"]), "≥ 1.00×", verdict(t["rps"] >= n["rps"])))
    if t and rg:
        out.append(Row(f"GET 1 KiB ({cc})", f_rps(t), "redis GET 1 KiB (context)",
                       f"{rg['rps']:,.0f} req/s", ratio(t["rps"], rg["rps"])))
    if t and n and "user_us" in t:
        out.append(Row("server CPU per GET 1 KiB, user + system", f"{t['user_us']:.1f} + {t['sys_us']:.1f} µs",
                       "nginx (workers)", f"{n['user_us']:.1f} + {n['sys_us']:.1f} µs",
                       ratio(t["user_us"] + t["sys_us"], n["user_us"] + n["sys_us"])))
    t, n = r.get("get_1m_tig"), r.get("get_1m_nginx")
    if t and n:
        out.append(Row(f"GET 1 MiB ({cc})", f"{f_rps(t)} · {t['payload_mbps']:,.0f} MB/s",
                       "nginx GET 1 MiB", f"{f_rps(n)} · {n['payload_mbps']:,.0f} MB/s",
                       ratio(t["rps"], n["rps"])))
    return out


def rows_tls(b):
    r, c = b.res, b.cfg
    t, n = r.get("tls_1k_tig"), r.get("tls_1k_nginx")
    if not t or not n:
        return []
    return [Row(f"GET 1 KiB over TLS (c={c.connections} t={c.threads})", f_rps(t), "nginx, same certificate",
                f_rps(n), ratio(t["rps"], n["rps"]), "≥ 1.00×", verdict(t["rps"] >= n["rps"]))]


def rows_idle(b):
    t, n = b.res.get("idle_tig"), b.res.get("idle_nginx")
    if not t:
        return []
    growth = t["loaded_kib"] - t["idle_kib"]
    reference = (f"{n['idle_kib'] / KIB:,.1f} → {n['loaded_kib'] / KIB:,.1f} MiB" if n else "")
    return [Row(f"RSS idle → {t['connections']:,} idle keep-alive connections",
                f"{t['idle_kib'] / KIB:,.1f} → {t['loaded_kib'] / KIB:,.1f} MiB (+{growth / KIB:,.1f})",
                "nginx (master + workers)" if n else "", reference, "—", "≤ +64 MiB", verdict(growth <= 64 * KIB))]


def rows_latency(b):
    r, out = b.res, []
    t, n = r.get("lat_1k_tig"), r.get("lat_1k_nginx")
    if t and n:
        out.append(Row("GET 1 KiB p50, 1 connection", f"{t['p50_us']:,} µs", "nginx p50",
                       f"{n['p50_us']:,} µs", ratio(t["p50_us"], n["p50_us"]),
                       "tig ≤ 100 µs", verdict(t["p50_us"] <= 100)))
        out.append(Row("GET 1 KiB p99, 1 connection", f"{t['p99_us']:,} µs", "nginx p99",
                       f"{n['p99_us']:,} µs", ratio(t["p99_us"], n["p99_us"])))
    return out


def rows_put(b):
    r, c, out = b.res, b.cfg, []
    cc = f"c={c.connections} t={c.threads}"
    t, n, rs = r.get("put_1k_tig"), r.get("get_1k_nginx"), r.get("redis_set")
    if t:
        tv = f"{f_rps(t)} · {t['payload_mbps']:,.1f} MB/s"
        if n:
            out.append(Row(f"PUT 1 KiB distinct ({cc})", tv, "nginx GET 1 KiB", f_rps(n),
                           ratio(t["rps"], n["rps"]), "≥ 0.50×",
                           verdict(t["rps"] >= 0.5 * n["rps"])))
        if rs:
            out.append(Row(f"PUT 1 KiB distinct ({cc})", tv, "redis SET 1 KiB",
                           f"{rs['rps']:,.0f} req/s", ratio(t["rps"], rs["rps"])))
        if not n and not rs:
            out.append(Row(f"PUT 1 KiB distinct ({cc})", tv))
    t, ssl = r.get("put_1m_tig"), r.get("openssl_sha256_Bps")
    if t:
        tv = f"{t['payload_mbps']:,.0f} MB/s · {f_rps(t)}"
        if ssl:
            out.append(Row(f"PUT 1 MiB distinct ({cc})", tv, "openssl SHA-256, 1 core",
                           f_mbps(ssl), ratio(t["payload_mbps"] * 1e6, ssl)))
        else:
            out.append(Row(f"PUT 1 MiB distinct ({cc})", tv))
    return out


def rows_put_large(b):
    r, c = b.res, b.cfg
    big, ssl = r.get("put_big"), r.get("openssl_sha256_Bps")
    if not big or not ssl:
        return []
    return [Row(f"PUT {c.big_mib} MiB, 1 request (median of {len(big['seconds'])})",
                f_mbps(big["median_Bps"]), "openssl speed -evp sha256, 16 KiB, 1 core",
                f_mbps(ssl), ratio(big["median_Bps"], ssl), "≥ 0.70×",
                verdict(big["median_Bps"] >= 0.7 * ssl))]


def rows_rss(b):
    rss = b.res.get("rss")
    if not rss:
        return []
    return [Row(f"RSS growth receiving {b.cfg.rss_mib} MiB",
                f"{rss['growth_kib'] / KIB:,.1f} MiB",
                "idle → peak RSS", f"{rss['idle_kib'] / KIB:,.1f} → {rss['peak_kib'] / KIB:,.1f} MiB",
                "—", "≤ 64 MiB", verdict(rss["growth_kib"] <= 64 * KIB))]


def rows_cluster(b):
    local, forwarded, drain = (b.res.get(k) for k in ("cluster_local", "cluster_forwarded", "cluster_drain"))
    rows = []
    if local and forwarded:
        added = forwarded["p50_us"] - local["p50_us"]
        rows.append(Row("GET 1 KiB answered by a peer, p50 (5 pods, 1 connection, no hot cache)", f"{forwarded['p50_us']:,} µs",
                        "answered locally", f"{local['p50_us']:,} µs", f"+{added:,} µs",
                        "≤ +150 µs", verdict(added <= 150)))
        rows.append(Row("GET 1 KiB answered by a peer, p99", f"{forwarded['p99_us']:,} µs",
                        "answered locally", f"{local['p99_us']:,} µs", f"+{forwarded['p99_us'] - local['p99_us']:,} µs"))
        if "asked_cpu_us" in local and "asked_cpu_us" in forwarded:
            cost = forwarded["asked_cpu_us"] / max(local["asked_cpu_us"], 1e-9)
            rows.append(Row("GET 1 KiB answered by a peer, CPU per GET of the pod asked", f"{forwarded['asked_cpu_us']:,.0f} µs",
                            "answered locally", f"{local['asked_cpu_us']:,.0f} µs", f"{cost:.2f}×",
                            "≤ 2×", verdict(cost <= 2)))
            rows.append(Row("GET 1 KiB answered by a peer, CPU per GET of the home that answers it",
                            f"{forwarded['holder_cpu_us']:,.0f} µs", "answered locally", f"{local['asked_cpu_us']:,.0f} µs",
                            f"{forwarded['holder_cpu_us'] / max(local['asked_cpu_us'], 1e-9):.2f}×"))
    if drain:
        rows.append(Row(f"drain of {drain['asked']:,} blocks of 1 KiB (SIGTERM)",
                        f"{drain['blocks'] / drain['seconds']:,.0f} blocks/s · "
                        f"{drain['bytes'] / drain['seconds'] / 1e6:,.1f} MB/s",
                        "blocks left behind", f"{drain['left']} (failed {drain['failed']})"))
    return rows


def rows_client(b):
    r = b.res.get("client")
    if not r:
        return []
    size = f"{r['bytes'] // MIB} MiB tree"
    # Throughput ratios: tig MB/s ÷ tar MB/s = tar seconds ÷ tig seconds. A
    # pipe inside a Markdown table cell is written \|.
    return [
        Row(f"tig push, {size} (new)", f_mbps(r["bytes"] / r["push_s"]), "tar \\| curl -T",
            f_mbps(r["bytes"] / r["tar_push_s"]), ratio(r["tar_push_s"], r["push_s"])),
        Row(f"tig pull, {size}", f_mbps(r["bytes"] / r["pull_s"]), "curl \\| tar -x",
            f_mbps(r["bytes"] / r["tar_pull_s"]), ratio(r["tar_pull_s"], r["pull_s"])),
        Row(f"tig push, {size} unchanged", f"{r['repush_s']:.2f} s"),
        Row(f"uploaded after a 1% change, {size}",
            f"{r['changed_uploaded'] / MIB:,.1f} MiB ({r['changed_puts']:.0f} PUTs, {r['changed_push_s']:.2f} s)",
            "tar \\| curl -T", f"{r['tar_changed_uploaded'] / MIB:,.1f} MiB",
            ratio(r["changed_uploaded"], r["tar_changed_uploaded"])),
    ]


# name -> (run, rows, what). Order is run order (put-1k compares against get).
BENCHMARKS = {
    "get": (bench_get, rows_get, "GET 1 KiB and 1 MiB, tig vs nginx"),
    "latency": (bench_latency, rows_latency, "single-connection GET 1 KiB p50/p99"),
    "tls": (bench_tls, rows_tls, "GET 1 KiB over TLS, tig vs nginx with the same certificate"),
    "idle": (bench_idle, rows_idle, "RSS at idle and with 1,000 idle keep-alive connections"),
    "redis": (bench_redis, lambda b: [], "redis-benchmark GET/SET 1 KiB (context)"),
    "put-1k": (bench_put_1k, rows_put, "PUT 1 KiB distinct bodies"),
    "put-1m": (bench_put_1m, lambda b: [], "PUT 1 MiB distinct bodies"),
    "put-large": (bench_put_large, rows_put_large, "PUT 256 MiB vs openssl sha256"),
    "rss": (bench_rss, rows_rss, "peak RSS while receiving 1 GiB"),
    "client": (bench_client, rows_client, "tig push/pull of a 1 GiB tree vs tar | curl"),
    "cluster": (bench_cluster, rows_cluster, "5-pod local cluster: forwarded GET latency, drain"),
    # "cluster": issue 3 (see the module docstring)
}


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(x) for x in row) + " |" for row in rows]
    return "\n".join(lines)


def report(b, info, selected, wall):
    c = b.cfg
    rows = []
    for name in BENCHMARKS:
        if name in selected:
            rows += BENCHMARKS[name][1](b)
    if "put-1m" in selected and "put-1k" not in selected:
        rows += rows_put(b)
    out = ["# tig benchmark", ""]
    server = b.tig_server_header or "?"
    out += [
        f"- date: {info['date']}, wall time {wall:.0f} s",
        f"- machine: {info['cpu']}, {info['cores']} cores ({info['cores_usable']} usable), "
        f"{info['memory']}, Linux {info['kernel']}; before the start the CPUs were "
        f"{info['cpu_busy_at_start']:.0%} busy (load average {info['loadavg_at_start']})",
        f"- **wrk and the servers share these {info['cores_usable']} cores** (no CPU pinning): "
        "every number includes the load generator's own CPU use, equally for each server",
        f"- tig: {info['tig_bin']}, `--version`: {info['tig_version']}, `Server`: {server}; "
        f"repo {info['repo']}; extra flags: `{' '.join(c.tig_args) or 'none'}`",
        f"- nginx: {info['nginx']} (2 workers, sendfile, keep-alive, open_file_cache, access_log off, reuseport); "
        f"redis: {info['redis']}; wrk: {info['wrk']}; {info['openssl']}; Python {info['python']}",
        f"- data on {info['tmp_fs']}; wrk: {c.connections} connections, {c.threads} threads, "
        f"{c.seconds:g} s per run after {c.warmup:g} s warm-up (latency {c.latency_seconds:g} s, "
        f"PUT 1 MiB {c.put_1m_seconds:g} s); MB = 10^6 bytes of payload; ratios are tig ÷ baseline",
        "",
    ]
    out.append(md_table(["benchmark", "tig", "baseline", "baseline value", "tig ÷ baseline",
                         "target", "met"], [[*vars(r).values()] for r in rows]))
    if b.runs:
        out += ["", "## Runs", ""]
        trs = []
        for r in b.runs:
            trs.append([r["label"], r["server"], f"{r['conns']}/{r['threads']}",
                        f"{r['seconds']:.1f}", f"{r['requests']:,}", f"{r['rps']:,.0f}",
                        f"{r['payload_mbps']:,.1f}" if "payload_mbps" in r else "—",
                        f"{r['bytes_per_resp']:,.0f}" if "bytes_per_resp" in r else "—",
                        f"{r['lat_mean_us']:,.0f}", f"{r['p50_us']:,.0f}",
                        f"{r['p90_us']:,}" if "p90_us" in r else "—",
                        f"{r['p99_us']:,.0f}",
                        f"{r['p999_us']:,}" if "p999_us" in r else "—",
                        f"{r['lat_max_us']:,}" if "lat_max_us" in r else "—",
                        str(r.get("errors", "—")),
                        f"{r['blocks_stored']:,}" if "blocks_stored" in r else ""])
        out.append(md_table(["run", "server", "conns/threads", "s", "requests", "req/s",
                             "payload MB/s", "resp bytes", "mean µs", "p50 µs", "p90 µs",
                             "p99 µs", "p99.9 µs", "max µs", "errors", "new blocks"], trs))
    big = b.res.get("put_big")
    if big:
        speeds = ", ".join(f"{big['bytes'] / s / 1e6:,.0f}" for s in big["seconds"])
        out += ["", f"Large PUT: {speeds} "
                f"MB/s ({big['bytes'] // MIB} MiB each, fresh server each, streamed with "
                "Content-Length from a Python client whose own ceiling, into a sink that reads "
                f"and drops the body, is {big['client_ceiling_Bps'] / 1e6:,.0f} MB/s); openssl sha256 "
                f"single core {b.res['openssl_sha256_Bps'] / 1e6:,.0f} MB/s."]
    rss = b.res.get("rss")
    if rss:
        pk = rss["peak_sampled"]
        out += ["", f"RSS: idle {rss['idle_kib'] / KIB:.1f} MiB, peak {rss['peak_kib'] / KIB:.1f} MiB "
                f"({'VmHWM after resetting it via clear_refs, and ' if rss['hwm_reset'] else ''}"
                f"{rss['samples']} VmRSS samples; sampled peak anon {pk.get('RssAnon', 0) / KIB:.1f} MiB, "
                f"file {pk.get('RssFile', 0) / KIB:.1f} MiB, shmem {pk.get('RssShmem', 0) / KIB:.1f} MiB) "
                f"while receiving {rss['body_bytes'] // MIB} MiB at "
                f"{rss['body_bytes'] / rss['seconds'] / 1e6:,.0f} MB/s."]
    if b.notes or b.errors:
        out += ["", "## Problems", ""]
        out += [f"- benchmark `{k}` failed: {v}" for k, v in b.errors.items()]
        out += [f"- {n}" for n in b.notes]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ main

def run_sink(port):
    """`bench.py --sink PORT`: answers every request 200 after reading its
    Content-Length body in 1 MiB recv_into calls and dropping it; measures
    what the upload client itself can send."""
    srv = socket.create_server(("127.0.0.1", port))
    buf = memoryview(bytearray(MIB))
    while True:
        conn, _ = srv.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                more = conn.recv(4096)
                if not more:
                    break
                data += more
            head, _, rest = data.partition(b"\r\n\r\n")
            m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            left = int(m.group(1)) - len(rest) if m else 0
            while left > 0:
                got = conn.recv_into(buf, min(left, MIB))
                if not got:
                    break
                left -= got
            if m:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")


def main():
    ap = argparse.ArgumentParser(description="tig vs nginx vs redis benchmark",
                                 epilog="benchmarks: " + ", ".join(
                                     f"{k} ({v[2]})" for k, v in BENCHMARKS.items()))
    ap.add_argument("benchmarks", nargs="*", help="which to run (default: all)")
    ap.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.sink:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        return run_sink(args.sink)
    selected = args.benchmarks or list(BENCHMARKS)
    unknown = [x for x in selected if x not in BENCHMARKS]
    if unknown:
        ap.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    cfg = Config()
    if not os.access(cfg.tig_bin, os.X_OK):
        sys.exit(f"bench: TIG_BIN {cfg.tig_bin} is not an executable "
                 "(build it with `swift build -c release --product tig`)")
    for tool in ("wrk", "nginx", "redis-server", "redis-benchmark", "openssl"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} not found (bench/run.sh installs it)")

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    info = system_info(cfg)
    if info["cpu_busy_at_start"] > 0.15:
        log(f"warning: the CPUs were {info['cpu_busy_at_start']:.0%} busy before the start: "
            "something else is running and will skew the numbers")
    start = time.monotonic()
    b = Bench(cfg)
    log(f"temp dir {b.tmp}; running: {', '.join(selected)}")
    interrupted = False
    try:
        for name in selected:
            log(f"{name}: {BENCHMARKS[name][2]}")
            b.current = name
            try:
                BENCHMARKS[name][0](b)
            except BenchError as e:
                b.errors[name] = str(e).replace("\n", " ⏎ ")
                log(f"{name} FAILED: {e}")
            except Exception as e:  # keep going: a report with the other numbers
                where = traceback.extract_tb(e.__traceback__)[-1]
                b.errors[name] = f"{type(e).__name__}: {e} (bench.py line {where.lineno})"
                log(f"{name} FAILED:\n{traceback.format_exc()}")
            b.check_procs(name)
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: stopping everything")
    finally:
        b.cleanup()
    text = report(b, info, selected, time.monotonic() - start)
    if interrupted:
        text += "\n(interrupted: partial results)\n"
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.md").write_text(text)
    (out / "latest.json").write_text(json.dumps(
        {"info": info, "config": vars(cfg), "results": b.res, "runs": b.runs,
         "errors": b.errors, "notes": b.notes}, indent=1, default=str) + "\n")
    print(text, end="")
    log(f"written to {out / 'latest.md'}")
    return 1 if (b.errors or interrupted) else 0


if __name__ == "__main__":
    sys.exit(main())
