"""Rate budget benchmark: does `max_calls_per_minute` use the budget fully without ever exceeding it?

    python bench/rate_budget.py [--per-minute 60] [--minutes 3] [--latency 0.05] [--workers 4]

A real historical sync (4 tables in parallel threads, one shared budget, small pages so it needs far more calls than
the budget allows) runs against the ServiceNow simulator for `--minutes`, then stops after the pages in flight.
Every figure is read from the simulator's request log (arrival times at the server), not from the client:

- achieved rate over the measured span (the first request to `--minutes` later) as a share of the budget — must be
  at least 95 %;
- the busiest 60-second window anywhere in the log (a window starting at every request) — must not exceed the budget.

Exit status 0 when both hold, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from bisect import bisect_left
from pathlib import Path

from udc.config import parse_config
from udc.simulators.servicenow import ServiceNowSim
from udc.store import SqliteStore
from udc.sync.engine import Engine, Stop

TABLES = ["incident", "problem", "change_request", "kb_knowledge"]


def busiest_window(times: list[float], window: float) -> tuple[int, float]:
    """The most requests in any half-open window [t, t + window), and where it starts."""
    best, at = 0, times[0] if times else 0.0
    for i, start in enumerate(times):
        n = bisect_left(times, start + window) - i
        if n > best:
            best, at = n, start
    return best, at


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-minute", type=int, default=60)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--latency", type=float, default=0.05, help="simulated server time per request (s)")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)
    span = args.minutes * 60

    sim = ServiceNowSim(seed=1, counts={"incident": 3000, "problem": 600, "change_request": 600,
                                        "kb_knowledge": 600})
    sim.faults.latency = args.latency
    sim.start()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        config = parse_config({
            "store": f"sqlite:///{db}",
            "connectors": {"snow": {"type": "servicenow", "instance_url": sim.url,
                                    "auth": {"type": "basic", "username": "admin", "password": "admin"}}},
            "pipelines": {"bench": {"connector": "snow", "mode": "historical", "batch_size": 5,
                                    "max_calls_per_minute": args.per_minute, "tables": TABLES}},
        })
        stop = Stop()
        engine = Engine(config, SqliteStore(db), stop=stop, workers=args.workers)
        print(f"syncing {', '.join(TABLES)} at {args.per_minute} calls/min for {args.minutes:g} min "
              f"({args.workers} threads, {args.latency * 1000:.0f} ms per request)…", flush=True)
        started = time.time()

        def stop_later() -> None:
            while True:
                with sim._log_lock:
                    first = sim.requests[0].at if sim.requests else None
                if first is not None and time.time() >= first + span:
                    stop.event.set()
                    return
                time.sleep(0.5)

        threading.Thread(target=stop_later, daemon=True).start()
        summary = engine.sync("bench")
        ended = time.time()
    sim.stop()

    times = sorted(r.at for r in sim.requests)
    first = times[0]
    in_span = bisect_left(times, first + span)
    per_minute = in_span / args.minutes
    share = per_minute / args.per_minute
    busiest, where = busiest_window(times, 60.0)
    rows = sum(s.rows for s in summary.streams)
    print(f"run {summary.status}: {rows:,} rows in {ended - started:,.1f} s, {len(times):,} requests in the log")
    print(f"achieved over the first {span:,.0f} s: {in_span} requests = {per_minute:.2f} calls/min = "
          f"{share:.1%} of the budget (needs >= 95%)")
    print(f"busiest 60-second window: {busiest} requests, starting {where - first:,.2f} s in "
          f"(budget {args.per_minute})")
    ok = share >= 0.95 and busiest <= args.per_minute
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
