"""Dashboard page times over a short and a long history, with and without the monitoring indexes.

The long store holds 10,000 runs over four pipelines and 100 backfills of 1,000 daily chunks (100,000 chunks, each
with its committed state); the short one 40 runs and 4 backfills of 10 chunks (tests/serve/test_scale.py builds
both). Each page is requested through the real app (FastAPI's test client, in process) `--rounds` times after one
warm-up; the median and the spread (min–max) are printed in milliseconds, side by side with the same store without
the indexes udc.store.sqlite adds for monitoring (runs_by_mode, runs_by_status, chunks_by_status,
redaction_by_dataset) as the baseline.

Usage: PYTHONPATH=src python bench/serve_pages.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from serve.test_scale import PAGES, build  # noqa: E402
from udc.config import load_config  # noqa: E402
from udc.serve.app import create_app  # noqa: E402
from udc.serve.auth import Guard  # noqa: E402
from udc.serve.views import Views  # noqa: E402
from udc.store import open_reader  # noqa: E402

MONITORING_INDEXES = ("runs_by_mode", "runs_by_status", "chunks_by_status", "redaction_by_dataset")


def times(config: Path, rounds: int) -> dict[str, list[float]]:
    cfg = load_config(config, secrets_for=())
    reader = open_reader(cfg.store)
    client = TestClient(create_app(Views(cfg, reader), Guard(None)))
    result: dict[str, list[float]] = {}
    for page in PAGES:
        client.get(page)  # warm-up (and the first /metrics scrape, which folds the history once)
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            assert client.get(page).status_code == 200
            samples.append((time.perf_counter() - start) * 1000)
        result[page] = samples
    reader.close()
    return result


def without_indexes(config: Path, into: Path) -> Path:
    into.mkdir()
    shutil.copy(config, into / "udc.yaml")
    shutil.copy(config.parent / "udc.db", into / "udc.db")
    with sqlite3.connect(into / "udc.db") as conn:
        for index in MONITORING_INDEXES:
            conn.execute(f"DROP INDEX {index}")
    return into / "udc.yaml"


def cell(samples: list[float]) -> str:
    return f"{statistics.median(samples):7.1f} ({min(samples):.1f}–{max(samples):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("short", "long"):
            (root / name).mkdir()
        short = build(root / "short", runs=40, backfills=4, chunks=10)
        long = build(root / "long", runs=10_000, backfills=100, chunks=1_000)
        columns = {"short, indexed": times(short, args.rounds), "long, indexed": times(long, args.rounds),
                   "long, without": times(without_indexes(long, root / "bare"), args.rounds)}
    print(f"page times in ms, median (min–max) of {args.rounds}")
    print(f"{'page':<38}" + "".join(f"{name:>28}" for name in columns))
    for page in PAGES:
        print(f"{page:<38}" + "".join(f"{cell(col[page]):>28}" for col in columns.values()))


if __name__ == "__main__":
    main()
