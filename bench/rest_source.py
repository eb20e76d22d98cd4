"""The declarative REST source's throughput against a plain httpx loop over the same pages.

The generic REST simulator (`python -m udc.simulators rest`) serves N records in PagerDuty's shape (`/offset/items`:
offset/limit pages of 100, `more`, `since`/`until`, five records per second) in its own process. Each contender
runs in a fresh process, timed from its first request, and the contenders alternate for `--rounds` rounds:

- `httpx`: the floor — one client, GET every page by offset until `more` is false, parse the JSON; nothing stored,
  nothing checked;
- `udc cursor`: `udc`'s REST source through the sync engine into a fresh SQLite store, `order: cursor` with a
  window (the keyset read: the query is sent again from the position after every page, the boundary second
  re-read and de-duplicated);
- `udc none`: the same table with `order: none` (the listing followed by offset, each page checked by its overlap
  row).

Usage: python bench/rest_source.py [--records 20000] [--rounds 5] [--latency 0]
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
from pathlib import Path
from typing import Any

PAGE = 100
UNTIL = "2030-01-01T00:00:00Z"
TABLE: dict[str, Any] = {
    "name": "items", "path": "/offset/items", "params": {"sort_by": "updated_at:asc"}, "records": "items",
    "primary_key": "id", "cursor": {"field": "updated_at", "format": "iso8601"},
    "window": {"start_param": "since", "end_param": "until"},
    "paginator": {"type": "offset", "offset_param": "offset", "limit_param": "limit", "has_more": "more"}}


def run_httpx(url: str) -> tuple[int, int]:
    import httpx

    records = calls = offset = 0
    with httpx.Client(base_url=url, timeout=60) as client:
        while True:
            body = client.get("/offset/items", params={"sort_by": "updated_at:asc", "until": UNTIL,
                                                       "offset": offset, "limit": PAGE}).json()
            calls += 1
            records += len(body["items"])
            offset += len(body["items"])
            if not body["more"]:
                return records, calls


def run_udc(url: str, order: str, workdir: Path) -> tuple[int, int]:
    from datetime import UTC, datetime

    from udc.cli import settle_startup_objects
    from udc.config import parse_config
    from udc.store import open_store
    from udc.sync.engine import Engine

    settle_startup_objects()  # what the `udc` command does before a sync
    config = parse_config({
        "store": f"sqlite:///{workdir / 'udc.db'}",
        "connectors": {"api": {"type": "rest", "base_url": url, "auth": {"type": "none"}}},
        "pipelines": {"bench": {"connector": "api", "mode": "historical", "batch_size": PAGE,
                                "tables": [{**TABLE, "order": order}]}},
    })
    store = open_store(config.store)
    try:
        summary = Engine(config, store).sync("bench", now=datetime(2030, 1, 1, tzinfo=UTC))
        assert summary.status == "succeeded", summary.warnings
        (stored,) = store.execute("SELECT count(*) FROM records")[0]
        return int(stored), summary.calls
    finally:
        store.close()


def worker(kind: str, url: str) -> None:
    import httpx  # noqa: F401  (every contender's imports load before its clock starts)

    if kind.startswith("udc"):
        import udc.cli  # noqa: F401
        import udc.sources.rest  # noqa: F401
        import udc.store  # noqa: F401
        import udc.sync.engine  # noqa: F401
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        records, calls = run_httpx(url) if kind == "httpx" else run_udc(url, kind.split()[1], Path(tmp))
        wall = time.perf_counter() - started
    print(json.dumps({"kind": kind, "records": records, "calls": calls, "wall": wall}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the simulator adds to every request")
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    sim = subprocess.Popen([sys.executable, "-m", "udc.simulators", "rest", "--items", str(args.records),
                            "--latency", str(args.latency)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert sim.stdout is not None
        url = sim.stdout.readline().split(" listening on ")[1].split()[0]
        kinds = ["httpx", "udc cursor", "udc none"]
        results: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
        for _ in range(args.rounds):
            for kind in kinds:
                out = subprocess.run([sys.executable, __file__, "--worker", kind, url], capture_output=True,
                                     text=True, env=env, check=True).stdout
                results[kind].append(json.loads(out.strip().splitlines()[-1]))
    finally:
        sim.terminate()
        sim.wait()
    print(f"\n{args.records:,} records, pages of {PAGE}, {args.rounds} rounds, simulator latency "
          f"{args.latency * 1000:g} ms; records/s: median (min–max)\n")
    print("| contender | records | calls | wall s (median) | records/s median | min – max |")
    print("|---|---:|---:|---:|---:|---|")
    medians = {}
    for kind, runs in results.items():
        rates = [r["records"] / r["wall"] for r in runs]
        medians[kind] = statistics.median(rates)
        print(f"| {kind} | {runs[0]['records']:,} | {runs[0]['calls']:,} | "
              f"{statistics.median(r['wall'] for r in runs):.2f} | {medians[kind]:,.0f} | "
              f"{min(rates):,.0f} – {max(rates):,.0f} |")
    for kind in kinds[1:]:
        print(f"\n{kind} / httpx: {medians[kind] / medians['httpx']:.2f}", end="")
    print()


if __name__ == "__main__":
    main()
