"""Backfill throughput: a 90-day backfill of 90,000 ServiceNow records, run with --parallel 1 and --parallel 4.

The simulator runs in its own process with 50 ms of latency added to every call (a remote instance), and is
started afresh for each run so no run profits from the simulator's page cache warmed by another. Each run stores
into a fresh SQLite file through the real connector, engine and chunk ledger (daily chunks).

Usage: python bench/backfill.py [--records 90000] [--days 90] [--latency 0.05] [--parallel 1 4] [--batch 1000]
       [--rounds 3]
Target: --parallel 4 at least 3x faster than --parallel 1.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

START = datetime(2025, 1, 1, tzinfo=UTC)
PASSWORD = "bench-pass"


def serve(records: int, days: int, latency: float) -> None:
    """Child process: build the instance, print its URL and how many incidents fall in the range, serve."""
    from udc.simulators.servicenow import ServiceNowSim

    # the simulator ends its data with a mass update at start + span: keep it inside the range
    sim = ServiceNowSim(seed=1, counts={"incident": records}, start=START, span=timedelta(days=days - 1),
                        users={"bench": PASSWORD})
    end = (START + timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")
    in_range = sum(1 for r in sim.records("incident") if r["sys_updated_on"] < end)
    sim.warm(["incident", "sys_db_object", "sys_dictionary"])
    sim.faults.latency = latency
    gc.freeze()
    print(json.dumps({"url": sim.url, "in_range": in_range}), flush=True)
    sim.serve_forever()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """This process's CPU seconds and those of its ended children (udc's store writer process)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def start_sim(args: argparse.Namespace) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen([sys.executable, __file__, "--serve", "--records", str(args.records), "--days",
                             str(args.days), "--latency", str(args.latency)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit("the simulator did not start")
    return proc, json.loads(line)


def run_once(args: argparse.Namespace, parallel: int, latency: float | None = None) -> dict[str, Any]:
    from udc.cli import settle_startup_objects
    from udc.config import load_config
    from udc.store import open_store
    from udc.sync.backfill import BackfillRunner, create_backfill

    sim, info = start_sim(argparse.Namespace(**{**vars(args), "latency": args.latency if latency is None else latency}))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            secret = Path(tmp) / "pw"
            secret.write_text(PASSWORD)
            secret.chmod(0o600)  # as users are told to keep it (udc warns otherwise)
            config = {"store": f"sqlite:///{tmp}/udc.db",
                      "connectors": {"snow": {"type": "servicenow", "instance_url": info["url"], "auth": {
                          "type": "basic", "username": "bench", "password": f"file:{secret}"}}},
                      "pipelines": {"live": {"connector": "snow", "mode": "incremental", "batch_size": args.batch,
                                             "tables": ["incident"]}}}
            path = Path(tmp) / "udc.yaml"
            path.write_text(yaml.safe_dump(config))
            cfg = load_config(path)
            store = open_store(cfg.store)
            bid = create_backfill(cfg, store, "live", START, START + timedelta(days=args.days), parallel=parallel,
                                  chunk=timedelta(days=1))
            import udc.sources.servicenow  # noqa: F401  (0.1 s of imports, httpx's mostly: process start-up, not backfill)

            settle_startup_objects()  # what the `udc` command does before `udc backfill`
            started, cpu, sim_cpu = time.perf_counter(), own_cpu_seconds(), cpu_seconds(sim.pid)
            report = BackfillRunner(cfg, store, bid).run()
            wall, cpu = time.perf_counter() - started, own_cpu_seconds() - cpu
            sim_cpu = cpu_seconds(sim.pid) - sim_cpu
            stored = store.execute("SELECT count(*) FROM records WHERE dataset = 'snow/incident'")[0][0]
            assert report.status == "done", report
            assert stored == info["in_range"], (stored, info["in_range"])
            store.close()
            return {"parallel": parallel, "wall_s": round(wall, 2), "records": stored,
                    "records_per_s": round(stored / wall), "calls": report.summary.calls, "udc_cpu_s": round(cpu, 2),
                    "sim_cpu_s": round(sim_cpu, 2),
                    "chunks": report.chunks_total}
    finally:
        sim.terminate()
        sim.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=90_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every simulator call")
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--batch", type=int, default=1000, help="batch_size (records per call)")
    parser.add_argument("--floor", action=argparse.BooleanOptionalAction, default=True,
                        help="also time --parallel 1 with no latency: the sequential CPU cost")
    parser.add_argument("--rounds", type=int, default=3,
                        help="the runs alternate this many times (the machine drifts); the median round is shown")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.records, args.days, args.latency)
        return
    rounds = []
    for _ in range(max(1, args.rounds)):
        results = [run_once(args, n) for n in args.parallel]
        for result in results:
            result["speedup"] = round(results[0]["wall_s"] / result["wall_s"], 2)
        rounds.append(results)
    rounds.sort(key=lambda results: float(results[-1]["speedup"]))
    results = rounds[len(rounds) // 2]
    base = results[0]["wall_s"]
    floor = run_once(args, 1, latency=0.0) if args.floor else None
    for result in results:
        if floor and base > floor["wall_s"]:  # share of the latency the parallel chunks hid
            result["latency_hidden"] = round((base - result["wall_s"]) / (base - floor["wall_s"]), 2)
    speedups = [float(r[-1]["speedup"]) for r in rounds]
    if args.json:
        print(json.dumps({"runs": results, "rounds": rounds, "floor": floor, "cpus": os.cpu_count()}, indent=2))
        return
    print(f"{args.days}-day backfill, {results[0]['records']:,} records, daily chunks, batch_size {args.batch}, "
          f"{args.latency * 1000:.0f} ms per call")
    print(f"{'parallel':>8} {'wall s':>8} {'records/s':>10} {'calls':>6} {'udc cpu s':>10} {'sim cpu s':>10} "
          f"{'speed-up':>9} {'latency hidden':>15}")
    for r in results:
        hidden = f"{r['latency_hidden']:.0%}" if "latency_hidden" in r else "—"
        print(f"{r['parallel']:>8} {r['wall_s']:>8.2f} {r['records_per_s']:>10,} {r['calls']:>6} "
              f"{r['udc_cpu_s']:>10.2f} {r['sim_cpu_s']:>10.2f} {r['speedup']:>8.2f}x {hidden:>15}")
    if len(rounds) > 1:
        print(f"speed-up of --parallel {args.parallel[-1]} in each of {len(rounds)} rounds: "
              f"{', '.join(f'{x:.2f}x' for x in speedups)} (the median round is shown)")
    if floor:
        print(f"floor (--parallel 1, no latency): {floor['wall_s']:.2f}s, {floor['records_per_s']:,} records/s — "
              f"udc's own CPU per record, one chunk at a time ({os.cpu_count()} CPUs, simulator included; parallel "
              "chunks can beat it by overlapping the syncing and the writer process)")


if __name__ == "__main__":
    main()
