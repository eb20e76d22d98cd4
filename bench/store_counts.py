"""What keeping records per dataset (udc.store.sqlite.COUNTS) costs a sync's writes, and what it saves monitoring.

Writes 100 pages of 1,000 new records (~1.5 KB of JSON each), then 20 pages of updates and 20 of tombstones,
through SqliteStore's real page write (in process) into a fresh store, `--rounds` times; prints the median seconds
and the spread, then the time of the dashboard's count of records per dataset over the result: as the store keeps
it, and counting every record. Run it from a checkout before the counts were kept for the baseline (its reader
counts every record): `git archive <commit> src | tar -x -C /tmp/before && PYTHONPATH=/tmp/before/src python …`.

Usage: PYTHONPATH=src python bench/store_counts.py [--rounds 5] [--pages 100]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from udc.store import SqliteStore, open_reader
from udc.store.types import PageWrite

TEXT = "word " * 280  # ~1.5 KB of free text per record


def write(path: Path, pages: int) -> float:
    store = SqliteStore(path, write_process=False)
    start = time.perf_counter()
    for n in range(pages):
        store.write(PageWrite(dataset=f"snow/t{n % 4}", records=[
            (f"{n:04}{i:04}", "2025-01-01", {"id": f"{n:04}{i:04}", "text": TEXT}) for i in range(1000)]), run_id=1)
    for n in range(20):
        store.write(PageWrite(dataset=f"snow/t{n % 4}", records=[
            (f"{n:04}{i:04}", "2025-01-02", {"id": f"{n:04}{i:04}", "text": TEXT + "!"}) for i in range(1000)]),
            run_id=2)
    for n in range(20, 40):
        store.write(PageWrite(dataset=f"snow/t{n % 4}", tombstones=[(f"{n:04}{i:04}", "2025-01-03")
                                                                     for i in range(1000)]), run_id=3)
    seconds = time.perf_counter() - start
    store.close()
    return seconds


def median_ms(fn: object, times: int = 5) -> float:
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pages", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        seconds = [write(Path(tmp) / f"{r}.db", args.pages) for r in range(args.rounds)]
        reader = open_reader(f"sqlite:///{Path(tmp) / '0.db'}")
        kept = median_ms(reader.dataset_counts)
        full = median_ms(lambda: reader.connection.execute(  # type: ignore[attr-defined]
            "SELECT dataset, sum(deleted = 0), sum(deleted) FROM records GROUP BY dataset").fetchall())
        reader.close()
    print(f"writes of {args.pages * 1000:,} new records, 20,000 updates, 20,000 tombstones: "
          f"{statistics.median(seconds):.2f} s median ({min(seconds):.2f}–{max(seconds):.2f}) of {args.rounds}")
    print(f"records per dataset: as the dashboard reads them {kept:.2f} ms, counting every record {full:.1f} ms")


if __name__ == "__main__":
    main()
