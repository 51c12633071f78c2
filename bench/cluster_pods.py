"""The pods of the cluster benchmark (bench/cluster.py): N `tig serve`
processes on loopback addresses, kept-alive client connections to them, and
what is read from /proc and their /metrics."""

import http.client
import os
import re
import shlex
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from bench import Proc, block_path  # noqa: E402

KIB = 1 << 10
MIB = 1 << 20
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    pass


def log(msg):
    print(f"[cluster {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def default_bin():
    if os.environ.get("TIG_BIN"):
        return os.environ["TIG_BIN"]
    for rel in (".build/release/tig", ".build-test/release/tig"):
        if os.access(REPO / rel, os.X_OK):
            return str(REPO / rel)
    return str(REPO / ".build/release/tig")


# ------------------------------------------------------------- /proc, metrics

def cpu_ticks(pid):
    """utime + stime of the whole process (dead threads included), ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)


def cpu_ns(pid):
    """Run time of the live threads from schedstat, ns (finer than ticks)."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$")


def parse_metrics(text):
    """Prometheus text -> {(name, labels): value}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if m:
            try:
                out[(m.group(1), m.group(2) or "")] = float(m.group(3))
            except ValueError:
                pass
    return out


def msum(metrics, name, label_re=None):
    return sum(v for (n, labels), v in metrics.items()
               if n == name and (label_re is None or re.search(label_re, labels)))


def has_metric(metrics, name):
    return any(n == name for n, _ in metrics)


# ------------------------------------------------------------------- client

class Conn:
    """One kept-alive HTTP/1.1 connection to a pod (reopened if the pod closed it)."""

    def __init__(self, host, port, timeout=30):
        self.host, self.port, self.timeout = host, port, timeout
        self.c = None

    def _open(self):
        self.c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.c.connect()
        self.c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def request(self, method, path, body=None):
        for attempt in (0, 1):
            if self.c is None:
                self._open()
            try:
                self.c.request(method, path, body=body)
                resp = self.c.getresponse()
                data = resp.read()
                if resp.getheader("connection", "").lower() == "close":
                    self.close()
                return resp.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest):
                self.close()
                if attempt:
                    raise

    def close(self):
        if self.c is not None:
            self.c.close()
            self.c = None


# --------------------------------------------------------------------- pods

class Pod:
    def __init__(self, ip, port, admin_port, wd):
        self.ip, self.port, self.admin_port, self.wd = ip, port, admin_port, wd
        self.data = wd / "data"
        self.proc = None

    @property
    def addr(self):
        return f"{self.ip}:{self.port}"

    def get(self, path, timeout=5, admin=False):
        conn = http.client.HTTPConnection(self.ip, self.admin_port if admin else self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def metrics(self):
        status, body = self.get("/metrics", admin=True)
        if status != 200:
            raise BenchError(f"{self.addr} /metrics answered {status}")
        return parse_metrics(body.decode())


class Cluster:
    """Owns the temp dir and every process started; `close` stops them all."""

    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="tig-cluster.", dir=args.tmp))
        self.procs = []
        self.notes = []
        self.multi_ip = self._loopback_ips_work()
        if not self.multi_ip:
            self.notes.append("binding 127.0.0.2 failed: every pod listens on 127.0.0.1 "
                              "(distinct ports)")
        self.used_ports = set()

    @staticmethod
    def _loopback_ips_work():
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.2", 0))
            return True
        except OSError:
            return False

    def _free_port(self, ip):
        while True:
            with socket.socket() as s:
                s.bind((ip, 0))
                port = s.getsockname()[1]
            if port not in self.used_ports:  # distinct ports even on distinct IPs
                self.used_ports.add(port)
                return port

    def plan(self, n, tag):
        """n pods (not started): addresses, ports, data dirs."""
        pods = []
        for i in range(n):
            ip = f"127.0.0.{i + 1}" if self.multi_ip else "127.0.0.1"
            wd = self.tmp / f"{tag}-pod{i + 1}"
            (wd / "data").mkdir(parents=True)
            pods.append(Pod(ip, self._free_port(ip), self._free_port(ip), wd))
        return pods

    def start(self, pod, peers, extra=()):
        a = self.args
        argv = [a.tig_bin, "serve", "--listen", pod.addr, "--admin-listen", f"{pod.ip}:{pod.admin_port}",
                "--data", str(pod.data),
                "--retention", "10m", "--peers", ",".join(p.addr for p in peers),
                *extra, *a.tig_args]
        # POD_IP: how the pod recognises itself in --peers (its interface
        # addresses are only 127.0.0.1, and the port tells the pods apart).
        env = dict(os.environ, POD_IP=pod.ip)
        pod.proc = Proc(f"tig:{pod.addr}", argv, pod.wd / "tig.log", env=env, kind="tig")
        self.procs.append(pod.proc)
        return pod

    def wait_ready(self, pods, timeout=30):
        deadline = time.monotonic() + timeout
        for pod in pods:
            while True:
                if not pod.proc.alive():
                    raise BenchError(f"tig {pod.addr} exited with {pod.proc.p.returncode}:\n"
                                     f"{' '.join(map(shlex.quote, pod.proc.argv))}\n{pod.proc.log_tail()}")
                try:
                    if pod.get("/readyz", timeout=1, admin=True)[0] == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise BenchError(f"tig {pod.addr} not ready within {timeout} s:\n{pod.proc.log_tail()}")
                time.sleep(0.05)

    def wait_peers(self, pods, want, timeout=15):
        """Until every pod's tig_peers gauge says `want` (itself excluded)."""
        deadline = time.monotonic() + timeout
        while True:
            seen = [msum(p.metrics(), "tig_peers") for p in pods]
            if all(s == want for s in seen):
                return True
            if time.monotonic() > deadline:
                self.notes.append(f"{len(pods)} pods: tig_peers was {seen} after {timeout} s, "
                                  f"expected {want} each")
                return False
            time.sleep(0.1)

    def check_self(self, pods):
        for pod in pods:
            if re.search(r"event=peers-changed.*self=\"?not listed", pod.proc.log_tail(200)):
                self.notes.append(f"{pod.addr} logged self=\"not listed\": it may probe itself")

    def stop(self, pods):
        for pod in pods:
            if pod.proc and pod.proc.alive():
                pod.proc.stop(signal.SIGKILL, timeout=10)
            elif pod.proc and not pod.proc.stopping:
                self.notes.append(f"tig {pod.addr} had exited by itself (code "
                                  f"{pod.proc.p.returncode}): {pod.proc.log_tail(3)}")
                pod.proc.stopping = True
        if not self.args.keep_tmp:
            for pod in pods:
                shutil.rmtree(pod.wd, ignore_errors=True)

    def close(self):
        for proc in reversed(self.procs):
            if proc.alive():
                proc.stop(signal.SIGKILL, timeout=10)
        if self.args.keep_tmp:
            log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def put_block(conn, data):
    status, body = conn.request("PUT", "/", body=data)
    want = block_path(data)
    if status != 200 or body.decode(errors="replace") != want:
        raise BenchError(f"PUT of {len(data)} bytes answered {status} {body[:120]!r}, expected {want}")
    return want


def snapshot(pods):
    """Request counters (scraped first), then CPU: the scrapes' own CPU
    falls outside the window that the CPU snapshots of the next call close."""
    mets = [p.metrics() for p in pods]
    return {
        "requests": [msum(m, "tig_requests_total") for m in mets],
        "by_method": {meth: sum(msum(m, "tig_requests_total", f'method="{meth}"') for m in mets)
                      for meth in ("GET", "HEAD", "PUT", "POST", "DELETE", "OTHER")},
        "forwarded": {r: sum(msum(m, "tig_forwarded_total", f'result="{r}"') for m in mets)
                      for r in ("hit", "miss", "error")},
        "blocks": [msum(m, "tig_blocks") for m in mets],
        "ticks": [cpu_ticks(p.proc.pid) for p in pods],
        "ns": [cpu_ns(p.proc.pid) for p in pods],
        "t": time.monotonic(),
    }


def snapshot_after(pods):
    """CPU first, then the counters (the mirror of `snapshot`)."""
    ticks = [cpu_ticks(p.proc.pid) for p in pods]
    ns = [cpu_ns(p.proc.pid) for p in pods]
    t = time.monotonic()
    s = snapshot(pods)
    s.update(ticks=ticks, ns=ns, t=t)
    return s


def delta(a, b):
    return {
        "requests": sum(b["requests"]) - sum(a["requests"]),
        "by_method": {k: b["by_method"][k] - a["by_method"][k] for k in a["by_method"]},
        "forwarded": {k: b["forwarded"][k] - a["forwarded"][k] for k in a["forwarded"]},
        "cpu_us": (sum(b["ticks"]) - sum(a["ticks"])) * 1e6 / CLK_TCK,
        "cpu_ns_us": (sum(b["ns"]) - sum(a["ns"])) / 1e3,
        "seconds": b["t"] - a["t"],
    }


def pct(sorted_xs, p):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_xs:
        return float("nan")
    k = max(0, min(len(sorted_xs) - 1, int(round(p / 100 * len(sorted_xs) + 0.5)) - 1))
    return sorted_xs[k]


# ------------------------------------------------------------------ scaling
