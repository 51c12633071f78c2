#!/usr/bin/env python3
"""Cluster scaling benchmark: N tig pods on this one machine, no root needed.

    python3 bench/cluster.py                  # N = 1, 2, 4, 8 (about a minute)
    python3 bench/cluster.py --rebalance      # also: a 3rd pod joins 2 holding 100,000 blocks
    bench/run.sh scaling [--rebalance ...]    # the same through run.sh

For each N it starts N `tig serve` processes on 127.0.0.1 .. 127.0.0.N (each
on its own port and data dir on tmpfs, POD_IP set to its address so it finds
itself in the list, static `--peers` naming all N), PUTs 300 blocks of 1 KiB
through random pods, then GETs every block 3 times through random pods
(keep-alive connections, one per pod, checking every body's SHA-256) and
measures, over the read phase only:

  - server requests per client GET: the sum over the pods of the
    `tig_requests_total` delta (every method and code; /metrics, /readyz and
    /healthz are not counted there) divided by the client GETs;
  - pod CPU per client GET: utime+stime from /proc/PID/stat summed over the
    pods (10 ms ticks; the per-thread schedstat run time, ns, alongside);
  - client GET latency p50/p99.

`--rebalance` then times how fast blocks reach a pod that joins a 2-pod
cluster holding `--blocks` blocks (its `tig_blocks` gauge, polled), and gives
up after `--rebalance-wait` seconds without a block arriving.

Only the standard library. Every process it starts is stopped by its own pid
(SIGKILL: the pods are disposable, a SIGTERM would make them drain), also on
Ctrl-C or SIGTERM. The report goes to stdout and bench/out/cluster.md (raw
numbers: cluster.json). The exit status is 1 only if a measurement could not
run, never because a target was missed.
"""

import argparse
import hashlib
import http.client
import json
import os
import random
import shlex
import signal
import statistics
import sys
import threading
import time
import traceback
from types import SimpleNamespace
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.append(str(REPO))  # e2e.scenarios.rendezvous: where a block lives
from bench import md_table, ratio, system_info, verdict  # noqa: E402
from e2e.scenarios.rendezvous import home  # noqa: E402
from cluster_pods import (BenchError, Cluster, Conn, default_bin, delta, has_metric, log, msum, pct,  # noqa: E402
                          put_block, snapshot, snapshot_after)

KIB = 1 << 10
MIB = 1 << 20
CLK_TCK = os.sysconf("SC_CLK_TCK")

TARGET_REQS = 2.0        # server requests per client GET, every N
TARGET_CPU_RATIO = 2.5   # pod CPU per GET at the largest N ÷ at N=1
TARGET_P50_RATIO = 2.0   # GET p50 at the largest N ÷ at N=1


def run_scaling(cl, n, rng):
    a = cl.args
    pods = cl.plan(n, f"n{n}")
    try:
        for pod in pods:
            cl.start(pod, pods)
        cl.wait_ready(pods)
        formed = cl.wait_peers(pods, n - 1)
        cl.check_self(pods)
        conns = [Conn(p.ip, p.port) for p in pods]
        members = [p.addr for p in pods]

        blocks = []  # (path, sha256 hex)
        t0 = time.monotonic()
        for _ in range(a.scale_blocks):
            data = os.urandom(KIB)
            blocks.append(put_block(rng.choice(conns), data))
        put_s = time.monotonic() - t0
        time.sleep(0.5)  # let anything a PUT started in the background settle

        reads = [path for path in blocks for _ in range(a.reads)]
        rng.shuffle(reads)
        lat = []
        bad = 0
        before = snapshot(pods)
        homes = {path: conns[members.index(home(members, path[1:65]))] for path in blocks} if a.through == "home" else {}
        for path in reads:
            conn = homes.get(path) or rng.choice(conns)
            t = time.perf_counter()
            status, body = conn.request("GET", path)
            lat.append(time.perf_counter() - t)
            if status != 200 or f"/{hashlib.sha256(body).hexdigest()}.tig" != path:
                bad += 1
        after = snapshot_after(pods)
        d = delta(before, after)

        # what the pods do with no traffic (announcements, peer refresh), as context
        time.sleep(a.idle_seconds)
        idle = delta(after, snapshot_after(pods))
        for c in conns:
            c.close()

        gets = len(reads)
        lat.sort()
        res = {
            "pods": n, "formed": formed, "blocks": len(blocks), "gets": gets, "bad": bad,
            "put_s": put_s, "read_s": d["seconds"],
            "requests": d["requests"], "by_method": d["by_method"], "forwarded": d["forwarded"],
            "req_per_get": d["requests"] / gets,
            "cpu_us_per_get": d["cpu_us"] / gets,
            "cpu_ns_us_per_get": d["cpu_ns_us"] / gets,
            "p50_ms": pct(lat, 50) * 1e3, "p99_ms": pct(lat, 99) * 1e3,
            "mean_ms": statistics.fmean(lat) * 1e3,
            "blocks_per_pod": after["blocks"],
            "idle_req_per_s": idle["requests"] / idle["seconds"],
            "idle_cpu_ms_per_s": idle["cpu_ns_us"] / 1e3 / idle["seconds"],
        }
        if bad:
            cl.notes.append(f"N={n}: {bad} of {gets} GETs did not return the block's bytes")
        log(f"N={n}: {res['req_per_get']:.2f} requests/GET, CPU {res['cpu_us_per_get']:,.0f} µs/GET "
            f"(schedstat {res['cpu_ns_us_per_get']:,.0f}), p50 {res['p50_ms']:.3f} ms, "
            f"p99 {res['p99_ms']:.3f} ms, bad {bad}")
        return res
    finally:
        cl.stop(pods)


# ---------------------------------------------------------------- rebalance

def run_rebalance(cl, rng):
    a = cl.args
    pods = cl.plan(3, "rebalance")
    extra = ["--peer-refresh", "1s"]
    try:
        for pod in pods[:2]:
            cl.start(pod, pods, extra)
        cl.wait_ready(pods[:2])
        time.sleep(1.5)  # a refresh or two: both see each other (and the third as down)

        # K blocks through random pods of the two, a few client threads
        count = a.blocks
        threads = 4
        failures = []
        done = [0]
        lock = threading.Lock()

        def writer(idx):
            wrng = random.Random(rng.random() + idx)
            conns = [Conn(p.ip, p.port) for p in pods[:2]]
            try:
                for _ in range(idx, count, threads):
                    put_block(wrng.choice(conns), os.urandom(KIB))
                    with lock:
                        done[0] += 1
            except Exception as e:  # noqa: BLE001 - reported below
                failures.append(e)
            finally:
                for c in conns:
                    c.close()

        log(f"rebalance: writing {count:,} blocks of 1 KiB to 2 pods")
        t0 = time.monotonic()
        ws = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(threads)]
        for w in ws:
            w.start()
        for w in ws:
            w.join()
        write_s = time.monotonic() - t0
        if failures:
            raise BenchError(f"rebalance writes failed: {failures[0]}")
        log(f"rebalance: wrote {count:,} blocks in {write_s:.1f} s ({count / write_s:,.0f} PUT/s)")
        m_old = [p.metrics() for p in pods[:2]]
        held_before = [msum(m, "tig_blocks") for m in m_old]
        rebal_metric = all(has_metric(m, "tig_rebalanced_blocks_total") for m in m_old)
        rebal_before = sum(msum(m, "tig_rebalanced_blocks_total") for m in m_old)

        newcomer = pods[2]
        t_start = time.monotonic()
        cl.start(newcomer, pods, extra)
        cl.wait_ready([newcomer])
        t_ready = time.monotonic()
        log(f"rebalance: 3rd pod ready after {t_ready - t_start:.2f} s; polling its tig_blocks "
            f"(gives up after {a.rebalance_wait:g} s without a new block)")

        samples = []  # (seconds since start, blocks on the newcomer)
        last_count, last_change = 0.0, t_ready
        first_block = None
        hard_stop = t_start + a.rebalance_max
        while True:
            now = time.monotonic()
            got = msum(newcomer.metrics(), "tig_blocks")
            samples.append((now - t_start, got))
            if got != last_count:
                if first_block is None and got > 0:
                    first_block = now
                last_count, last_change = got, now
            idle_for = now - last_change
            if first_block is None and now - t_ready >= a.rebalance_wait:
                break  # nothing arrived at all
            if first_block is not None and idle_for >= a.rebalance_settle:
                break  # arrivals stopped
            if now >= hard_stop:
                cl.notes.append(f"rebalance: still moving after {a.rebalance_max:g} s: cut short")
                break
            if not newcomer.proc.alive():
                raise BenchError(f"the 3rd pod exited: {newcomer.proc.log_tail()}")
            time.sleep(0.25)

        m_end = [p.metrics() for p in pods]
        arrived = last_count
        moving_s = (last_change - t_ready) if first_block is not None else 0.0
        res = {
            "blocks": count, "write_s": write_s, "held_before": held_before,
            "held_after": [msum(m, "tig_blocks") for m in m_end],
            "ready_s": t_ready - t_start,
            "first_block_s": (first_block - t_start) if first_block is not None else None,
            "arrived": arrived, "moving_s": moving_s,
            "blocks_per_s": arrived / moving_s if moving_s > 0 else 0.0,
            # throughput once blocks flow (leaves out the time to notice the newcomer)
            "flow_s": (last_change - first_block) if first_block is not None else 0.0,
            "timed_out": first_block is None, "wait_s": a.rebalance_wait,
            "rebalanced_metric": rebal_metric,
            "rebalanced_total": (sum(msum(m, "tig_rebalanced_blocks_total") for m in m_end[:2])
                                 - rebal_before) if rebal_metric else None,
            "samples": samples[:: max(1, len(samples) // 200)],
        }
        if res["timed_out"]:
            log(f"rebalance: no block reached the 3rd pod within {a.rebalance_wait:g} s")
        else:
            res["flow_blocks_per_s"] = arrived / res["flow_s"] if res["flow_s"] > 0 else 0.0
            log(f"rebalance: {arrived:,.0f} blocks in {moving_s:.1f} s after ready "
                f"({res['blocks_per_s']:,.0f} blocks/s; {res['flow_blocks_per_s']:,.0f} blocks/s "
                "from the first block on)")
        return res
    finally:
        cl.stop(pods)


# ------------------------------------------------------------------- report

def report(cl, info, scaling, reb, wall):
    a = cl.args
    out = ["# tig cluster scaling", ""]
    out += [
        f"- date: {info['date']}, wall time {wall:.0f} s",
        f"- machine: {info['cpu']}, {info['cores']} cores ({info['cores_usable']} usable), "
        f"Linux {info['kernel']}; CPUs {info['cpu_busy_at_start']:.0%} busy before the start",
        f"- tig: {info['tig_bin']}; repo {info['repo']}; extra flags: `{' '.join(a.tig_args) or 'none'}`",
        f"- **all pods and the client share these {info['cores_usable']} cores** (no pinning); "
        f"pods on {'127.0.0.1 … 127.0.0.N' if cl.multi_ip else '127.0.0.1'}, distinct ports, "
        f"data on {info['tmp_fs']}, static `--peers` naming all N, POD_IP set",
    ]
    if scaling:
        out.append(f"- per N: {a.scale_blocks} PUTs of 1 KiB through random pods, then {a.reads} "
                   f"GETs of each block through {'random pods' if a.through == 'random' else 'its home pod'}, "
                   "one client thread, one kept-alive "
                   "connection per pod; counters and CPU are deltas over the read phase only")
    out.append("")
    if scaling:
        base = scaling[0] if scaling[0]["pods"] == 1 else None
        rows = []
        for r in scaling:
            rows.append([
                r["pods"], f"{r['req_per_get']:.2f}",
                f"{r['cpu_us_per_get']:,.0f} ({r['cpu_ns_us_per_get']:,.0f})",
                f"{r['p50_ms']:.3f}", f"{r['p99_ms']:.3f}",
                (f"{ratio(r['cpu_us_per_get'], base['cpu_us_per_get'])} "
                 f"({ratio(r['cpu_ns_us_per_get'], base['cpu_ns_us_per_get'])})") if base else "—",
                ratio(r["p50_ms"], base["p50_ms"]) if base else "—",
            ])
        out.append(md_table(["pods", "server requests per client GET",
                             "pod CPU per client GET (µs; schedstat in parentheses)",
                             "GET p50 (ms)", "p99 (ms)", "CPU ÷ N=1 (schedstat)", "p50 ÷ N=1"], rows))
        top = scaling[-1]
        worst_req = max(scaling, key=lambda r: r["req_per_get"])
        targets = [["server requests per client GET, every N", "≤ 2.00",
                    f"{worst_req['req_per_get']:.2f} (N={worst_req['pods']})",
                    verdict(worst_req["req_per_get"] <= TARGET_REQS)]]
        if base and top is not base:
            cr = top["cpu_us_per_get"] / base["cpu_us_per_get"] if base["cpu_us_per_get"] else float("inf")
            pr = top["p50_ms"] / base["p50_ms"]
            targets += [[f"pod CPU per GET, N={top['pods']} ÷ N=1", f"≤ {TARGET_CPU_RATIO:.1f}×",
                         f"{cr:.2f}×", verdict(cr <= TARGET_CPU_RATIO)],
                        [f"GET p50, N={top['pods']} ÷ N=1", f"≤ {TARGET_P50_RATIO:.1f}×",
                         f"{pr:.2f}×", verdict(pr <= TARGET_P50_RATIO)]]
        out += ["", md_table(["target", "wanted", "measured", "met"], targets)]
        details = []
        for r in scaling:
            bm, fw = r["by_method"], r["forwarded"]
            details.append([
                r["pods"], r["gets"], f"{r['requests']:,.0f}",
                " · ".join(f"{k} {v:,.0f}" for k, v in bm.items() if v),
                f"hit {fw['hit']:,.0f} · miss {fw['miss']:,.0f} · error {fw['error']:,.0f}",
                f"{r['read_s']:.2f}", f"{r['mean_ms']:.3f}",
                " / ".join(f"{b:.0f}" for b in r["blocks_per_pod"]),
                f"{r['idle_req_per_s']:.1f} · {r['idle_cpu_ms_per_s']:.1f}",
                "yes" if r["formed"] else "**no**", r["bad"],
            ])
        out += ["", "## Details", "", md_table(
            ["pods", "client GETs", "server requests", "by method", "tig_forwarded_total",
             "read phase (s)", "GET mean (ms)", "tig_blocks per pod after",
             "idle: requests/s · CPU ms/s", "all saw N-1 peers", "bad bodies"], details)]
        out += ["", f"CPU: utime+stime comes in ticks of {1e6 / CLK_TCK:,.0f} µs, so each pod's "
                "figure is ±1 tick over the read phase (N=1: "
                f"±{1e6 / CLK_TCK / max(1, scaling[0]['gets']):,.0f} µs per GET); the schedstat figure "
                "sums the live threads' run time in ns. The idle rates were taken over "
                f"{a.idle_seconds:g} s right after the read phase: that background work is "
                "inside the read-phase numbers too."]
    if reb:
        out += ["", "## Rebalance", ""]
        if reb["timed_out"]:
            speed = f"0 blocks/s (no block arrived within {reb['wait_s']:g} s of ready)"
        else:
            speed = (f"{reb['blocks_per_s']:,.0f} blocks/s · {reb['blocks_per_s'] * KIB / 1e6:,.2f} MB/s "
                     f"({reb['arrived']:,.0f} blocks in {reb['moving_s']:.1f} s after ready; the first "
                     f"{reb['first_block_s']:.2f} s after the start; from the first block on "
                     f"{reb['flow_blocks_per_s']:,.0f} blocks/s over {reb['flow_s']:.1f} s; "
                     f"polled every 0.25 s)")
        rows = [
            ["blocks written to 2 pods", f"{reb['blocks']:,} × 1 KiB in {reb['write_s']:.1f} s "
             f"({reb['blocks'] / reb['write_s']:,.0f} PUT/s, 4 client threads)"],
            ["tig_blocks of pod 1 / 2 before", " / ".join(f"{x:,.0f}" for x in reb["held_before"])],
            ["3rd pod ready after", f"{reb['ready_s']:.2f} s"],
            ["blocks reaching the 3rd pod", speed],
            ["tig_blocks of pod 1 / 2 / 3 at the end", " / ".join(f"{x:,.0f}" for x in reb["held_after"])],
            ["tig_rebalanced_blocks_total (pods 1+2)",
             f"{reb['rebalanced_total']:,.0f}" if reb["rebalanced_metric"] else "not exported by this binary"],
        ]
        out.append(md_table(["rebalance (--peer-refresh 1s)", "value"], rows))
    if cl.notes or info.get("errors"):
        out += ["", "## Problems", ""]
        out += [f"- {e}" for e in info.get("errors", [])]
        out += [f"- {n}" for n in cl.notes]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description="tig cluster scaling benchmark (N local pods)")
    ap.add_argument("--pods", default="1,2,4,8", help="cluster sizes, comma-separated (default 1,2,4,8)")
    ap.add_argument("--scale-blocks", type=int, default=300, help="blocks written per N (default 300)")
    ap.add_argument("--reads", type=int, default=3, help="GETs of each block per N (default 3)")
    ap.add_argument("--through", choices=("random", "home"), default="random",
                    help="read each block through a random pod (default) or its home: the home "
                         "shows what pods sharing this machine cost apart from relaying")
    ap.add_argument("--idle-seconds", type=float, default=1.0, help="idle window after the reads (default 1)")
    ap.add_argument("--no-scaling", action="store_true", help="skip the scaling part")
    ap.add_argument("--rebalance", action="store_true", help="also measure a 3rd pod joining 2")
    ap.add_argument("--blocks", type=int, default=100_000, help="blocks the 2 pods hold before (default 100000)")
    ap.add_argument("--rebalance-wait", type=float, default=120,
                    help="give up after this many seconds without any block arriving (default 120)")
    ap.add_argument("--rebalance-settle", type=float, default=10,
                    help="done once the count stood still this long (default 10)")
    ap.add_argument("--rebalance-max", type=float, default=600, help="hard cap, seconds (default 600)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    args.tig_bin = default_bin()
    args.tig_args = shlex.split(os.environ.get("TIG_ARGS", ""))
    args.tmp = os.environ.get("BENCH_TMP", "/dev/shm")
    args.out = Path(os.environ.get("BENCH_OUT", str(HERE / "out")))
    args.keep_tmp = os.environ.get("BENCH_KEEP_TMP", "") not in ("", "0")
    try:
        sizes = [int(x) for x in args.pods.split(",") if x.strip()]
    except ValueError:
        ap.error(f"--pods {args.pods!r}: comma-separated numbers")
    if any(not 1 <= s <= 254 for s in sizes):
        ap.error("--pods: 1 … 254")
    if not os.access(args.tig_bin, os.X_OK):
        sys.exit(f"cluster: TIG_BIN {args.tig_bin} is not an executable "
                 "(build it with `swift build -c release --product tig`)")

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    info = system_info(SimpleNamespace(tig_bin=args.tig_bin, tmp_base=args.tmp))
    if info["cpu_busy_at_start"] > 0.15:
        log(f"warning: the CPUs were {info['cpu_busy_at_start']:.0%} busy before the start: the numbers will be skewed")
    info["errors"] = []
    start = time.monotonic()
    rng = random.Random(args.seed)
    cl = Cluster(args)
    log(f"temp dir {cl.tmp}; tig {args.tig_bin}")
    scaling, reb, interrupted = [], None, False
    try:
        steps = ([] if args.no_scaling else [("scaling", n) for n in sizes])
        steps += [("rebalance", 0)] if args.rebalance else []
        for kind, n in steps:
            try:
                if kind == "scaling":
                    scaling.append(run_scaling(cl, n, rng))
                else:
                    reb = run_rebalance(cl, rng)
            except (BenchError, OSError, http.client.HTTPException) as e:
                what = f"N={n}" if kind == "scaling" else "rebalance"
                info["errors"].append(f"{what} failed: {str(e).replace(chr(10), ' ⏎ ')}")
                log(f"{what} FAILED:\n{traceback.format_exc()}")
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: stopping everything")
    finally:
        cl.close()
    text = report(cl, info, scaling, reb, time.monotonic() - start)
    if interrupted:
        text += "\n(interrupted: partial results)\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cluster.md").write_text(text)
    (args.out / "cluster.json").write_text(json.dumps(
        {"info": info, "args": {k: str(v) for k, v in vars(args).items()}, "scaling": scaling,
         "rebalance": reb, "notes": cl.notes}, indent=1, default=str) + "\n")
    print(text, end="")
    log(f"written to {args.out / 'cluster.md'}")
    return 1 if (info["errors"] or interrupted) else 0


if __name__ == "__main__":
    sys.exit(main())
