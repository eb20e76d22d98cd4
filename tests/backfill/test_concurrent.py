"""A backfill and incremental cycles at once, under `udc run`'s scheduler, while the source changes: the store ends
with exactly the source's latest records (newest wins), and the incremental cursor is the incremental's own."""

from __future__ import annotations

import random
import threading
from concurrent.futures import Future
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from udc.store import PageWrite, UpsertCounts
from udc.sync.backfill import backfill_status, create_backfill
from udc.sync.engine import Engine
from udc.sync.scheduler import Scheduler

from .conftest import AFTER_DATA, START, Harness, source_truth


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.both_stores
def test_backfill_beside_incremental_cycles_ends_with_the_source_latest(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 400})
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "lag": "0s", "frequency": "1m", "batch_size": 10,
                                         "tables": ["incident"]}})
    rng = random.Random(3)
    bid = create_backfill(h.config, h.store, "live", START, START + timedelta(days=31), parallel=2)

    # Hold the backfill's first page of records until the source has changed them and a cycle stored the changes:
    # the backfill then writes versions older than the stored ones, which newest-wins must keep out.
    holding, go = threading.Event(), threading.Event()
    held: dict[str, Any] = {}
    submit = h.store.submit

    def gated(page: PageWrite, run_id: int) -> Future[UpsertCounts]:
        rows = page.encoded if page.encoded is not None else page.records
        if threading.current_thread().name.startswith(f"backfill-{bid}_") and rows and not held:
            held["pks"] = [row[0] for row in rows]
            holding.set()
            assert go.wait(60)
            future = submit(page, run_id)
            held["counts"] = future.result()
            return future
        return submit(page, run_id)

    h.store.submit = gated  # type: ignore[method-assign]

    ended: dict[str, threading.Semaphore] = {"cycle": threading.Semaphore(0), "backfill": threading.Semaphore(0)}

    def event(kind: str, info: dict[str, Any]) -> None:
        if kind in ("cycle-end", "backfill-end"):
            ended[kind.split("-")[0]].release()

    clock = Clock()  # the scheduler's monotonic seconds; the instance's and the cycles' time is AFTER_DATA + that

    def cycle(pipeline: str) -> str:
        return Engine(h.config, h.store, stop=scheduler.stop).sync(pipeline, now=wall()).status

    def wall() -> datetime:
        return AFTER_DATA + timedelta(seconds=clock.now)

    scheduler = Scheduler(h.config, h.store, clock=clock, on_event=event, poll=1.0, run_cycle=cycle)
    deleted: set[str] = set()

    def mutate(pks: list[str]) -> None:
        """Change the source half a period after the last cycle: updates, deletes, inserts."""
        sim.clock = wall() + timedelta(seconds=30)
        live = sorted(source_truth(sim))
        for pk in pks[:3]:
            sim.update("incident", pk, {"short_description": f"changed {rng.random()}"})
        victim = pks[3]
        sim.delete("incident", victim)
        deleted.add(victim)
        for pk in rng.sample([p for p in live if p not in pks and p not in deleted], 5):  # not yet backfilled
            if rng.random() < 0.3:
                sim.delete("incident", pk)
                deleted.add(pk)
            else:
                sim.update("incident", pk, {"state": str(rng.randint(1, 7))})
        sim.insert("incident", {"short_description": "created during the backfill"})

    scheduler.tick()  # cycle 1 (starts the incremental cursor at now) and the backfill, side by side
    assert ended["cycle"].acquire(timeout=60)
    assert holding.wait(60)
    mutate(held["pks"])
    clock.now = 60.0
    scheduler.tick()  # cycle 2 stores the changes while the backfill holds its stale page
    assert ended["cycle"].acquire(timeout=60)
    # more changes land while the backfill pages on
    sim.on_request(sim.table_request_count + 6, lambda _: mutate(sorted(source_truth(sim))[::37][:4]))
    go.set()
    clock.now = 120.0
    scheduler.tick()  # cycle 3 runs alongside the rest of the backfill
    assert ended["cycle"].acquire(timeout=60)
    assert ended["backfill"].acquire(timeout=120)
    scheduler.stop.event.set()
    scheduler.join(60)

    clock.now = 180.0
    Engine(h.config, h.store).sync("live", now=wall())  # the last changes were made after cycle 3 began
    assert h.stored() == source_truth(sim)
    assert h.deleted() == deleted
    assert held["counts"].stale >= 3  # the held page's old versions were refused (invariant 2)
    status = backfill_status(h.store, bid)
    assert status["status"] == "done" and status["chunks_done"] == 31
    assert set(h.store.all_state("live")) == {"incremental:incident", "incremental:incident.deletes"}
    modes = {run["mode"] for run in h.store.runs("live", limit=20)}
    assert modes == {"incremental", "backfill"}
