"""Historical ServiceNow sync into each store, side by side: the same simulated instance and the same pages, synced
by udc into SQLite (the baseline) and into PostgreSQL (a fresh schema each round, on the local server).

Each run is its own process, timed from its first request, with its modules loaded before. The two stores alternate
for a few rounds, since this machine's speed drifts from minute to minute; the median records/s is reported with the
spread (lowest–highest) across rounds. CPU is udc's own (SQLite's writer process included; PostgreSQL's server
processes not). Usage: python bench/store_pg.py [--records 100000] [--rounds 3] [--server postgresql://…/db]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from servicenow_sync import PAGE, cpu_seconds, start_sim  # the 100k-incident bench's simulator and paging

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def run(url: str, store: str) -> tuple[int, float, float]:
    """Sync every incident into `store`: (records, wall seconds, CPU seconds)."""
    import httpcore  # noqa: F401  (loaded by httpx's first client: 0.2 s, not the store's)

    import udc.sources.servicenow  # noqa: F401
    from udc.config import parse_config
    from udc.store import open_store
    from udc.sync.engine import Engine

    config = parse_config({
        "store": store,
        "connectors": {"snow": {"type": "servicenow", "instance_url": url,
                                "auth": {"type": "basic", "username": "admin", "password": "admin"}}},
        "pipelines": {"bench": {"connector": "snow", "batch_size": PAGE, "tables": ["incident"]}},
    })
    db = open_store(config.store)  # PostgreSQL: connects and creates the schema before the clock starts
    started, cpu0 = time.perf_counter(), cpu_seconds()
    summary = Engine(config, db).sync("bench")
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu0
    assert summary.status == "succeeded", summary.warnings
    db.close()
    return sum(s.rows for s in summary.streams), wall, cpu


def measure(kind: str, url: str, server: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        schema = f"udc_bench_{uuid.uuid4().hex[:10]}"
        store = f"sqlite:///{Path(tmp) / 'udc.db'}" if kind == "sqlite" else f"{server}?schema={schema}"
        try:
            done = subprocess.run([sys.executable, __file__, "--worker", store, "--url", url], capture_output=True,
                                  text=True, check=False)
        finally:
            if kind == "postgresql":
                with psycopg.connect(server, autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-3000:]}")
    return {"kind": kind, **json.loads(done.stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", default=SERVER, help="the PostgreSQL database the store goes in (a schema per "
                                                         "round, dropped after)")
    parser.add_argument("--worker")
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.worker:
        records, wall, cpu = run(args.url, args.worker)
        print(json.dumps({"records": records, "wall": wall, "cpu": cpu}))
        return
    proc, url = start_sim(args.records)
    results: dict[str, list[dict[str, float]]] = {"sqlite": [], "postgresql": []}
    try:
        measure("sqlite", url, args.server)  # warms the simulator's page cache: every round sees the same server
        for _ in range(args.rounds):
            for kind in results:
                results[kind].append(measure(kind, url, args.server))
    finally:
        proc.terminate()
        proc.wait()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n{args.records:,} incidents, {args.rounds} rounds, stores alternating; both keep the knowledge graph "
          f"(nodes, links, full-text index) as they write; load average at the end {load} on {os.cpu_count()} "
          "cores\n")
    print("| store | records | records/s (median) | spread (lowest–highest) | wall s (median) | CPU s (median) |")
    print("|---|---:|---:|---:|---:|---:|")
    median: dict[str, float] = {}
    for kind, runs in results.items():
        rates = [r["records"] / r["wall"] for r in runs]
        median[kind] = statistics.median(rates)
        print(f"| {kind} | {int(runs[0]['records']):,} | {median[kind]:,.0f} | {min(rates):,.0f}–{max(rates):,.0f} "
              f"| {statistics.median(r['wall'] for r in runs):.2f} | {statistics.median(r['cpu'] for r in runs):.2f} |")
    print(f"\nPostgreSQL / SQLite throughput: {median['postgresql'] / median['sqlite']:.2f}  (target ≥ 0.50)")
    paired = [pg["records"] / pg["wall"] / (lite["records"] / lite["wall"])
              for lite, pg in zip(results["sqlite"], results["postgresql"], strict=True)]
    print(f"each round's (SQLite, then PostgreSQL): {', '.join(f'{r:.2f}' for r in paired)}")


if __name__ == "__main__":
    main()
