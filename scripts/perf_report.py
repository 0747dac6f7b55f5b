#!/usr/bin/env python3
"""Runs every benchmark in benches/ and writes docs/performance.md.

Each bench file holds one criterion group per workload, with the functions `bucle`, `tokio`
and `smol`. This script runs the whole set several times, each runtime's functions in a
process of their own and in an order that rotates from run to run, takes the median of each
function's per-run median, and writes the ratio of bucle to the faster peer with the spread
across runs.

    python3 scripts/perf_report.py            # 3 runs, default criterion timing
    python3 scripts/perf_report.py --runs 5 --quick
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import statistics
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent
PEERS = ("tokio", "smol")

# What each criterion group measures, in the words of the workload table it answers.
WORKLOADS = {
    "spawn_200k": "spawn 200k tasks, await in order",
    "ping_pong": "ping-pong through two capacity-1 queues (10k round trips)",
    "mpmc": "4 producers x 4 consumers, bounded(1024)",
    "timers_100k": "100k timers, 0-10 ms",
    "echo_64x5000": "64 clients x 5k 64-byte echo round trips",
    "offload_20k_x64": "20k offloaded `x + 1`, 64 in flight",
    "lock": "1000 tasks x 100 lock/yield/unlock",
    "event_fanout": "event fan-out to 10k waiters",
    "yield_pingpong": "two tasks yielding to each other",
    "spawn_join_1000": "spawn and join 1000 tasks",
    "yield_10000": "one task yielding 10k times",
}


def peak_rss():
    """Peak RSS (KiB) of spawning 200k tasks, one process per runtime, median of 3."""
    subprocess.run(
        ["cargo", "build", "--release", "--example", "spawn_rss"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    exe = target_dir() / "release" / "examples" / "spawn_rss"
    # The detector is switched off: spawning 200k tasks in one poll is itself a stall on a
    # loaded machine, and the report's one-time debug-info load is not per-task memory.
    env = dict(os.environ, BUCLE_BLOCKING="allow")
    rss = {}
    for runtime in ("bucle",) + PEERS:
        samples = []
        for _ in range(3):
            out = subprocess.run(
                [str(exe), runtime], env=env, check=True, capture_output=True, text=True
            ).stdout
            samples.append(int(out.split()[-1]))
        rss[runtime] = statistics.median(samples)
    return rss


def idle_connections():
    """Idle connections one bucle loop holds, and user-space bytes per connection, from the
    net bench's own report (run with a filter that matches no criterion benchmark)."""
    out = subprocess.run(
        ["cargo", "bench", "--bench", "net", "--", "--noplot", "no-criterion-benchmark-matches-this"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        env=dict(os.environ, BUCLE_BENCH_IDLE="10000", BUCLE_BLOCKING="allow"),
    ).stdout
    m = re.search(r"idle: (\d+) connections .*?~(\d+) bytes", out)
    return (int(m.group(1)), int(m.group(2))) if m else None


def target_dir():
    return pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def bench_names(only):
    names = sorted(p.stem for p in (ROOT / "benches").glob("*.rs"))
    return [n for n in names if not only or n in only]


def run_once(benches, quick, turn):
    """One run of every bench: each runtime's functions in their own process, in an order
    that rotates with `turn`, so that no runtime always goes first (or last) on a machine
    whose speed drifts over minutes."""
    args = ["--noplot"]
    if quick:
        args += ["--warm-up-time", "1", "--measurement-time", "3"]
    runtimes = ("bucle",) + PEERS
    order = runtimes[turn % len(runtimes):] + runtimes[: turn % len(runtimes)]
    for bench in benches:
        for runtime in order:
            subprocess.run(
                ["cargo", "bench", "--bench", bench, "--", *args, "/%s$" % runtime],
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
                env=dict(os.environ, BUCLE_BENCH_CRITERION_ONLY="1"),
            )
    results = {}
    criterion = target_dir() / "criterion"
    for estimates in criterion.glob("*/*/new/estimates.json"):
        function = estimates.parent.parent.name
        group = estimates.parent.parent.parent.name
        if function not in ("bucle",) + PEERS:
            continue
        median = json.loads(estimates.read_text())["median"]["point_estimate"]
        results.setdefault(group, {})[function] = median
    return results


def versions():
    lock = (ROOT / "Cargo.lock").read_text()
    found = {}
    for name in ("tokio", "smol", "async-executor", "async-io", "polling", "async-task", "criterion"):
        m = re.search(r'name = "%s"\nversion = "([^"]+)"' % re.escape(name), lock)
        if m:
            found[name] = m.group(1)
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return rustc, found


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def fmt_time(ns):
    if ns >= 1e6:
        return "%.2f ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.1f us" % (ns / 1e3)
    return "%.0f ns" % ns


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--bench", action="append", help="only these bench files")
    parser.add_argument("--out", default=str(ROOT / "docs" / "performance.md"))
    parser.add_argument("--no-rss", action="store_true", help="skip the memory table")
    opts = parser.parse_args()
    rss = None if opts.no_rss else peak_rss()
    idle = None if opts.no_rss else idle_connections()

    benches = bench_names(opts.bench)
    runs = [run_once(benches, opts.quick, turn) for turn in range(opts.runs)]
    groups = sorted({g for r in runs for g in r})
    rows = []
    for group in groups:
        per_fn = {}
        for fn in ("bucle",) + PEERS:
            samples = [r[group][fn] for r in runs if fn in r.get(group, {})]
            if samples:
                per_fn[fn] = samples
        if "bucle" not in per_fn or not any(p in per_fn for p in PEERS):
            continue
        med = {fn: statistics.median(s) for fn, s in per_fn.items()}
        peer = min((p for p in PEERS if p in med), key=lambda p: med[p])
        ratios = [b / p for b, p in zip(per_fn["bucle"], per_fn[peer])]
        rows.append((group, med, peer, med["bucle"] / med[peer], min(ratios), max(ratios)))

    rustc, vers = versions()
    lines = [
        "# Performance",
        "",
        "bucle against tokio's `current_thread` runtime (with `LocalSet`) and smol's",
        "`LocalExecutor` (with `async-io`), on the same workloads in the same run.",
        "The ratio is bucle's time over the faster peer's: below 1.0, bucle is faster.",
        "bucle runs with its defaults, the blocking detector on (`warn`, its watchdog thread",
        "running) and task timing off (the release default).",
        "",
        "Reproduce with `python3 scripts/perf_report.py` (it runs `cargo bench` and rewrites this",
        "page). Method: %d runs of every bench; in each run every runtime's functions run in a"
        % opts.runs,
        "process of their own, in an order that rotates from run to run. Each cell is the median",
        "of the per-run criterion medians; the spread is the lowest and highest per-run ratio. Single",
        "timings on a shared machine vary by 20-50%, so read the ratios, not the absolute times.",
        "",
        "| workload | what | bucle | tokio | smol | faster peer | ratio | spread |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for group, med, peer, ratio, lo, hi in rows:
        cells = [fmt_time(med[f]) if f in med else "-" for f in ("bucle",) + PEERS]
        lines.append(
            "| %s | %s | %s | %s | %s | %s | **%.2f** | %.2f-%.2f |"
            % (group, WORKLOADS.get(group, ""), *cells, peer, ratio, lo, hi)
        )
    lines += [
        "",
        "Two rows are close by construction. `offload_20k_x64`: bucle and smol hand calls to the",
        "same `blocking` pool, and most of the time goes to that pool's thread wake-ups in the",
        "kernel; its median moves from one batch of runs to the next by more than one table's",
        "spread shows, so read it as even. `echo_64x5000`: 85% of the time is the kernel's",
        "loopback TCP; bucle makes the same `recv`/`send` calls as tokio, plus four per wait for",
        "I/O inside `polling` (smol-rs/polling#224). The README quotes later batches of both.",
    ]
    if rss:
        lines += [
            "",
            "## Memory",
            "",
            "Peak resident set size of spawning 200,000 tasks and awaiting them in order, one",
            "process per runtime, median of 3 (`cargo run --release --example spawn_rss --",
            "bucle|tokio|smol`, with `BUCLE_BLOCKING=allow`).",
            "",
            "| runtime | peak RSS | per task |",
            "|---|---|---|",
        ]
        for runtime, kib in rss.items():
            lines.append(
                "| %s | %.1f MiB | %d bytes |" % (runtime, kib / 1024, kib * 1024 / 200_000)
            )
        lines += [
            "",
            "\"Per task\" is the peak over the task count: it includes the process's baseline and",
            "each task's `JoinHandle` and ready-queue slot. Chapter 9 breaks a task down field by field.",
        ]
    if idle:
        lines += [
            "",
            "Idle connections: one bucle loop held %s (both ends in this process, so the"
            % format(idle[0], ","),
            "descriptor limit bounds the count), at %d bytes of user-space memory per connection"
            % idle[1],
            "(client stream, server stream and the server's task parked in `read`; `cargo bench",
            "--bench net` prints it).",
        ]
    lines += [
        "",
        "## Machine",
        "",
        "- date: %s" % datetime.date.today().isoformat(),
        "- CPU: %s, %d cores" % (cpu_model(), os.cpu_count() or 0),
        "- %s, release profile" % rustc,
        "- " + ", ".join("%s %s" % kv for kv in sorted(vers.items())),
        "",
    ]
    pathlib.Path(opts.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
