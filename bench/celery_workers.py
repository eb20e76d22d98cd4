"""Celery workers: a 90-day backfill on 1 worker against 4, and 4 workers sharing max_calls_per_minute through Redis.

Throughput: the ServiceNow simulator runs in its own process with 50 ms of latency per call (a remote instance),
fresh for each run; `udc worker --concurrency 1` processes take the backfill's chunk tasks from a queue of this
bench's own on the local Redis and store into one fresh SQLite file. A run is timed from sending the tasks to the
last chunk task's answer, and checked: the store holds exactly the records of the range, every chunk done once. The
runs alternate for --rounds rounds with the baseline, the same backfill in one process (`udc backfill --parallel 4`,
bench/backfill.py); medians are shown with the spread (min–max): on a shared machine the baseline says how busy it
was. Peak RSS (VmHWM) of the worker processes that ran chunks (Celery's pool processes) and of the store's writer
processes they started is reported.

Ceiling: 4 workers run a backfill whose pipeline says `max_calls_per_minute: 120`, their budget shared through Redis
(UDC_BUDGET_URL), for --ceiling-seconds; the simulator (in this process, so its request log is at hand) counts the
calls: no 60-second window over 120, and the share of the budget used in each full window after the first.

Each run also says where its time went: the CPU seconds of the workers (with their store writers) and of the
simulator, the chunks' own seconds summed (busy time), each worker's start-up (sending the tasks to its first claim)
and its idle tail, and the load average when it began.

Usage: python bench/celery_workers.py [--records 90000] [--days 90] [--latency 0.05] [--batch 1000] [--rounds 3]
       [--ceiling-seconds 180] [--pg postgresql://…/db] [--no-baseline] [--rss-only N] [--json]
Targets: 4 workers ≥ 3.5x faster than 1, nothing lost; no 60 s window over 120 calls, ≥ 95 % of the budget used.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from backfill import PASSWORD, START, start_sim  # the throughput bench's simulator process
from backfill import run_once as local_once  # the baseline: the same backfill in one process, --parallel N

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))
BROKER = os.environ.get("UDC_BROKER_URL", "redis://127.0.0.1:6379/0")


def write_config(folder: Path, url: str, pipeline: dict[str, Any], store: str | None = None) -> Path:
    secret = folder / "pw"
    secret.write_text(PASSWORD)
    secret.chmod(0o600)  # as users are told to keep it (udc warns otherwise)
    config = {"store": store or f"sqlite:///{folder}/udc.db",
              "connectors": {"snow": {"type": "servicenow", "instance_url": url, "auth": {
                  "type": "basic", "username": "bench", "password": f"file:{secret}"}}},
              "pipelines": {"live": {"connector": "snow", "mode": "incremental", "tables": ["incident"], **pipeline}}}
    path = folder / "udc.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def start_workers(n: int, queue: str, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    from udc.scale.app import app

    procs = [subprocess.Popen([sys.executable, "-m", "udc", "worker", "--concurrency", "1", "--queue", queue],
                              env={**os.environ, "PYTHONPATH": str(SRC), "UDC_BROKER_URL": BROKER, **env},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
             for _ in range(n)]
    deadline = time.monotonic() + 120
    while len(app.control.ping(timeout=0.5)) < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"{n} workers did not start")
    return procs


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def peak_rss_mb(pids: set[int]) -> float:
    """The largest VmHWM (peak resident set) among these processes, MB."""
    peaks = [0.0]
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
    return max(peaks)


def tree_cpu_seconds(pids: set[int]) -> float:
    """User + system CPU seconds of these processes and of their waited-for ended children (Linux): the pool
    processes count their store writers this way."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


def descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        children = Path(f"/proc/{current}/task/{current}/children")
        with contextlib.suppress(OSError):
            for child in map(int, children.read_text().split()):
                found.add(child)
                todo.append(child)
    return found


def between_chunks(chunks: list[dict[str, Any]]) -> list[float]:
    """Per worker, the seconds from each chunk's end (its start plus its own seconds) to the claim of its next one:
    settling a chunk in the ledger and claiming another."""
    from udc.timeutil import parse_time

    gaps = []
    for worker in {c["worker"] for c in chunks}:
        mine = sorted((parse_time(c["started_at"]).timestamp(), float(c["seconds"] or 0)) for c in chunks
                      if c["worker"] == worker)
        gaps.append(round(sum(b[0] - a[0] - a[1] for a, b in zip(mine, mine[1:], strict=False)), 2))
    return sorted(gaps)


def run_once(args: argparse.Namespace, workers: int) -> dict[str, Any]:
    from udc.config import load_config
    from udc.scale.app import configure
    from udc.scale.tasks import chunk
    from udc.store import open_store
    from udc.sync.backfill import create_backfill
    from udc.timeutil import parse_time

    queue = f"udc-bench-{uuid.uuid4().hex[:8]}"
    configure(BROKER, queue)
    sim, info = start_sim(args)
    procs = start_workers(workers, queue, {})
    try:
        with tempfile.TemporaryDirectory() as tmp:
            schema = f"udc_bench_{uuid.uuid4().hex[:10]}"
            path = write_config(Path(tmp), info["url"], {"batch_size": args.batch},
                                f"{args.pg}?schema={schema}" if args.pg else None)
            cfg = load_config(path)
            store = open_store(cfg.store)
            bid = create_backfill(cfg, store, "live", START, START + timedelta(days=args.days), parallel=workers,
                                  chunk=timedelta(days=1))
            pool = set().union(*(descendants(p.pid) for p in procs))
            cpu_before, sim_before = tree_cpu_seconds(pool), tree_cpu_seconds({sim.pid})
            load_before = os.getloadavg()[0]
            started, sent_at = time.perf_counter(), time.time()
            results = [chunk.delay(str(path), bid, 60.0) for _ in range(workers)]
            # the end is when the last answer arrives (the result backend says so at once), not the next look at
            # it: RSS is sampled by a thread of its own
            rss = [0.0]
            done = threading.Event()

            def sample() -> None:
                while not done.wait(0.2):
                    rss[0] = max(rss[0], peak_rss_mb(set().union(*(descendants(p.pid) for p in procs))))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            statuses = [r.get(timeout=3600, interval=0.01) for r in results]
            wall = time.perf_counter() - started
            done.set()
            sampler.join()
            workers_cpu = tree_cpu_seconds(pool) - cpu_before
            sim_cpu = tree_cpu_seconds({sim.pid}) - sim_before
            chunks = store.chunks(bid)
            stored = store.execute("SELECT count(*) FROM records WHERE dataset = 'snow/incident'")[0][0]
            rows = sum(c["rows"]["incident"]["rows"] for c in chunks)
            assert statuses == ["done"] * workers, statuses
            assert stored == rows == info["in_range"], (stored, rows, info["in_range"])
            assert all(c["status"] == "done" and c["attempts"] == 1 for c in chunks)
            store.close()
            if args.pg:
                import psycopg
                from psycopg import sql

                with psycopg.connect(args.pg, autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            return {"workers": workers, "wall_s": round(wall, 2), "records": stored,
                    "records_per_s": round(stored / wall), "chunks": len(chunks),
                    "worker_peak_rss_mb": round(rss[0], 1), "pool_processes": len(pool),
                    # where the time goes: CPU of the workers (with their writers) and of the simulator, the chunks'
                    # own seconds (claim to settle) summed, and the machine's load when the run began
                    "workers_cpu_s": round(workers_cpu, 2), "sim_cpu_s": round(sim_cpu, 2),
                    "chunk_busy_s": round(sum(float(c["seconds"] or 0) for c in chunks), 2),
                    "load_1m": round(load_before, 2),
                    # per worker: seconds from sending the tasks to its first claim, and from its last settle to
                    # the end (start-up and tail, outside the chunks)
                    "first_claim_s": sorted(round(min(parse_time(c["started_at"]).timestamp() for c in chunks
                                                      if c["worker"] == w) - sent_at, 2)
                                            for w in {c["worker"] for c in chunks}),
                    # per worker: seconds between its chunks (settling one, claiming the next), summed
                    "between_chunks_s": between_chunks(chunks),
                    "idle_at_end_s": sorted(round(sent_at + wall - max(parse_time(c["finished_at"]).timestamp()
                                                                        for c in chunks if c["worker"] == w), 2)
                                            for w in {c["worker"] for c in chunks})}
    finally:
        stop_workers(procs)
        sim.terminate()
        sim.wait()


def max_in_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def ceiling(args: argparse.Namespace) -> dict[str, Any]:
    """4 workers on a backfill limited to 120 calls a minute, budget shared through Redis; the simulator counts."""
    from udc.config import load_config
    from udc.scale.app import configure
    from udc.scale.tasks import chunk
    from udc.simulators.servicenow import ServiceNowSim
    from udc.store import open_store
    from udc.sync.backfill import create_backfill

    queue = f"udc-bench-{uuid.uuid4().hex[:8]}"
    configure(BROKER, queue)
    sim = ServiceNowSim(seed=1, counts={"incident": 20_000}, start=START, span=timedelta(days=89),
                        users={"bench": PASSWORD})
    sim.clock = START + timedelta(days=120)
    sim.start()
    procs = start_workers(4, queue, {"UDC_BUDGET_URL": BROKER})
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = write_config(Path(tmp), sim.url, {"batch_size": 10, "max_calls_per_minute": 120})
            cfg = load_config(path)
            store = open_store(cfg.store)
            bid = create_backfill(cfg, store, "live", START, START + timedelta(days=90), parallel=4)
            for _ in range(4):
                chunk.delay(str(path), bid, 60.0)
            time.sleep(args.ceiling_seconds)
    finally:
        stop_workers(procs)
        sim.stop()
    times = sorted(r.at for r in sim.requests)
    first = times[0]
    windows = [sum(1 for t in times if first + 60 * k <= t < first + 60 * (k + 1))
               for k in range(int((times[-1] - first) // 60))]
    return {"seconds": args.ceiling_seconds, "calls": len(times), "max_in_any_60s": max_in_window(times, 60.0),
            "calls_per_minute_window": windows,
            "budget_used_after_first_minute": round(statistics.mean(windows[1:]) / 120, 3) if len(windows) > 1
            else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=90_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every simulator call")
    parser.add_argument("--batch", type=int, default=1000, help="batch_size (records per call)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg", metavar="URL", help="store in a fresh schema of this PostgreSQL database (e.g. "
                        "postgresql://postgres@127.0.0.1:5432/postgres) instead of a SQLite file")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false",
                        help="skip the one-process `udc backfill --parallel 4` baseline")
    parser.add_argument("--ceiling-seconds", type=float, default=180.0, help="0: skip the ceiling check")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rss-only", type=int, metavar="N", help="one run of N workers, printed as JSON (peak RSS "
                        "at --records: compare 100,000 with 1,000,000)")
    args = parser.parse_args()
    if args.rss_only:
        print(json.dumps(run_once(args, args.rss_only)))
        return
    rounds = [[run_once(args, 1), run_once(args, 4), *([local_once(args, 4)] if args.baseline else [])]
              for _ in range(max(1, args.rounds))]
    summary: dict[str, Any] = {}
    for i, n in enumerate((1, 4)):
        walls = [r[i]["wall_s"] for r in rounds]
        summary[n] = {"median_s": statistics.median(walls), "min_s": min(walls), "max_s": max(walls),
                      "records": rounds[0][i]["records"],
                      "peak_rss_mb": max(r[i]["worker_peak_rss_mb"] for r in rounds)}
    speedups = [r[0]["wall_s"] / r[1]["wall_s"] for r in rounds]
    local = [r[2]["wall_s"] for r in rounds if len(r) > 2]
    if local:
        summary["local"] = {"median_s": statistics.median(local), "min_s": min(local), "max_s": max(local)}
    cap = ceiling(args) if args.ceiling_seconds > 0 else None
    if args.json:
        print(json.dumps({"rounds": rounds, "summary": summary, "speedups": speedups, "ceiling": cap,
                          "cpus": os.cpu_count()}, indent=2))
        return
    print(f"{args.days}-day backfill, {summary[1]['records']:,} records, daily chunks, batch_size {args.batch}, "
          f"{args.latency * 1000:.0f} ms per call, {os.cpu_count()} CPUs, {len(rounds)} round(s)")
    print(f"{'workers':>7} {'median s':>9} {'min–max s':>13} {'records/s':>10} {'speed-up':>9} {'worker peak RSS':>16}")
    for n in (1, 4):
        s = summary[n]
        print(f"{n:>7} {s['median_s']:>9.2f} {s['min_s']:>6.2f}–{s['max_s']:<6.2f} "
              f"{round(s['records'] / s['median_s']):>10,} {summary[1]['median_s'] / s['median_s']:>8.2f}x "
              f"{s['peak_rss_mb']:>13.1f} MB")
    if loc := summary.get("local"):  # not with --no-baseline
        print(f"baseline, one process --parallel 4: {loc['median_s']:.2f} s ({loc['min_s']:.2f}–{loc['max_s']:.2f}), "
              f"{summary[1]['median_s'] / loc['median_s']:.2f}x the 1-worker run")
    print(f"speed-up per round: {', '.join(f'{x:.2f}x' for x in speedups)}; nothing lost in any run (stored = the "
          "range's records, every chunk done once)")
    if cap:
        print(f"ceiling: 4 workers, max_calls_per_minute 120 shared through Redis, {cap['seconds']:.0f} s: "
              f"{cap['calls']} calls, at most {cap['max_in_any_60s']} in any 60 s window; per minute "
              f"{cap['calls_per_minute_window']}; budget used after the first minute: "
              f"{cap['budget_used_after_first_minute']:.1%}" if cap["budget_used_after_first_minute"] is not None
              else f"ceiling: {cap}")


if __name__ == "__main__":
    main()
