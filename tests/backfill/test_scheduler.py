"""The scheduler: cycles at each pipeline's frequency, never two at once per pipeline, slow cycles delay (never
stack), cycles held elsewhere are skipped, queued backfills are picked up, and a stop waits for running work.
Driven by an injected clock and injected cycle functions that block on semaphores: no sleeps."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from secret_refs import env_ref
from stores import Backend
from udc.config import Config, load_config
from udc.errors import ConfigError, LockHeld
from udc.store import Store, open_store
from udc.sync.engine import Stop
from udc.sync.scheduler import Scheduler


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Cycles:
    """Injected `run_cycle`: records starts, blocks each cycle until the test lets it through."""

    def __init__(self, pipelines: list[str]) -> None:
        self.starts: list[tuple[str, float]] = []
        # made up front: a defaultdict filled from two threads at once could hand them different semaphores
        self.gates = {p: threading.Semaphore(0) for p in pipelines}
        self.ended = {p: threading.Semaphore(0) for p in pipelines}
        self.raise_for: set[str] = set()
        self.clock: FakeClock | None = None

    def __call__(self, pipeline: str) -> str:
        self.starts.append((pipeline, self.clock.now if self.clock else 0.0))
        if pipeline in self.raise_for:
            raise LockHeld(f"'{pipeline}' is already running (process 1)")
        assert self.gates[pipeline].acquire(timeout=30)
        return "succeeded"

    def event(self, kind: str, info: dict[str, Any]) -> None:
        if kind == "cycle-end":
            self.ended[info["pipeline"]].release()

    def finish(self, pipeline: str) -> None:
        """Let the running cycle of `pipeline` end, and wait until the scheduler has seen it end."""
        self.gates[pipeline].release()
        assert self.ended[pipeline].acquire(timeout=30)

    def count(self, pipeline: str) -> int:
        return sum(p == pipeline for p, _ in self.starts)


def setup(tmp_path: Path, pipelines: dict[str, dict[str, Any]]) -> tuple[Config, Store]:
    config = {"store": Backend.store_url(tmp_path / "udc.db"),
              "connectors": {"snow": {"type": "servicenow", "instance_url": "http://127.0.0.1:9",
                                      "auth": {"type": "basic", "username": "u", "password": env_ref("p")}}},
              "pipelines": {n: {"connector": "snow", "tables": ["incident"], **p} for n, p in pipelines.items()}}
    path = tmp_path / "udc.yaml"
    path.write_text(yaml.safe_dump(config))
    cfg = load_config(path)
    return cfg, open_store(cfg.store)


def make(tmp_path: Path, pipelines: dict[str, dict[str, Any]], **kwargs: Any) -> tuple[Scheduler, Cycles, FakeClock]:
    cfg, store = setup(tmp_path, pipelines)
    cycles, clock = Cycles(list(pipelines)), FakeClock()
    cycles.clock = clock
    kwargs.setdefault("backfills", False)
    scheduler = Scheduler(cfg, store, kwargs.pop("names", None), clock=clock, run_cycle=cycles,
                          on_event=cycles.event, **kwargs)
    return scheduler, cycles, clock


def test_cycles_run_at_their_frequency(tmp_path: Path) -> None:
    scheduler, cycles, clock = make(tmp_path, {"a": {"mode": "incremental", "frequency": "1m"},
                                               "b": {"mode": "incremental", "frequency": "5m"},
                                               "seed": {"mode": "historical"}})
    assert set(scheduler.jobs) == {"a", "b"}  # historical pipelines are not cycled
    scheduler.tick()
    assert sorted(p for p, _ in cycles.starts) == ["a", "b"]
    cycles.finish("a")
    cycles.finish("b")
    clock.now = 59.0
    assert scheduler.tick() == pytest.approx(1.0)  # a is due in one second
    assert len(cycles.starts) == 2
    clock.now = 60.0
    scheduler.tick()
    cycles.finish("a")
    clock.now = 300.0
    scheduler.tick()
    cycles.finish("a")
    cycles.finish("b")
    assert sorted(cycles.starts) == [("a", 0.0), ("a", 60.0), ("a", 300.0), ("b", 0.0), ("b", 300.0)]


def test_a_slow_cycle_delays_the_next_instead_of_stacking(tmp_path: Path) -> None:
    scheduler, cycles, clock = make(tmp_path, {"a": {"mode": "incremental", "frequency": "1m"}})
    scheduler.tick()
    for now in (60.0, 120.0, 150.0, 210.0):  # three periods pass while the first cycle is still running
        clock.now = now
        scheduler.tick()
    assert cycles.count("a") == 1  # never two cycles of one pipeline at once
    cycles.finish("a")  # ends at 210: the next is due at once (not three catch-up cycles)
    scheduler.tick()
    assert cycles.starts == [("a", 0.0), ("a", 210.0)]
    cycles.finish("a")  # ended at 210 right away: the next is due a period after it started
    clock.now = 269.0
    scheduler.tick()
    assert cycles.count("a") == 2
    clock.now = 270.0
    scheduler.tick()
    assert cycles.starts[-1] == ("a", 270.0)
    cycles.finish("a")


def test_a_cycle_held_elsewhere_is_skipped_until_its_next_turn(tmp_path: Path) -> None:
    scheduler, cycles, clock = make(tmp_path, {"a": {"mode": "incremental", "frequency": "2m"}})
    cycles.raise_for.add("a")
    scheduler.tick()
    assert cycles.ended["a"].acquire(timeout=30)
    job = scheduler.jobs["a"]
    assert (job.skipped, job.last_status, job.due) == (1, "skipped", 120.0)
    cycles.raise_for.clear()
    clock.now = 120.0
    scheduler.tick()
    cycles.finish("a")
    assert (job.cycles, job.last_status) == (1, "succeeded")


def test_stop_starts_nothing_new_and_waits_for_the_running_cycle(tmp_path: Path) -> None:
    stop = Stop()
    cfg, store = setup(tmp_path, {"a": {"mode": "incremental", "frequency": "1m"}})
    started = threading.Event()

    def cycle(pipeline: str) -> str:
        started.set()
        assert release.acquire(timeout=30)
        return "stopped"

    release = threading.Semaphore(0)
    scheduler = Scheduler(cfg, store, stop=stop, run_cycle=cycle, backfills=False)
    runner = threading.Thread(target=scheduler.run)
    runner.start()
    assert started.wait(30)
    stop.event.set()
    runner.join(0.3)
    assert runner.is_alive()  # still waiting for the cycle storing its page
    release.release()
    runner.join(30)
    assert not runner.is_alive()
    assert scheduler.jobs["a"].last_status == "stopped"


def test_queued_backfills_are_picked_up_once_and_held_ones_left_alone(tmp_path: Path) -> None:
    scheduler, cycles, clock = make(tmp_path, {"a": {"mode": "incremental"}, "seed": {"mode": "historical"},
                                               "other": {"mode": "incremental"}},
                                    names=["a", "seed"], backfills=True)
    store = scheduler.store
    spec = {"kind": "backfill", "range_start": "2025-01-01", "range_end": "2025-01-02", "chunk_seconds": 86400,
            "parallel": 1, "max_attempts": 3}
    queued = store.create_backfill({**spec, "pipeline": "seed"}, [("2025-01-01", "2025-01-02")])
    held = store.create_backfill({**spec, "pipeline": "a"}, [("2025-01-01", "2025-01-02")])
    finished = store.create_backfill({**spec, "pipeline": "a", "status": "done"}, [("2025-01-01", "2025-01-02")])
    elsewhere = store.create_backfill({**spec, "pipeline": "other"}, [("2025-01-01", "2025-01-02")])
    ran: list[int] = []
    done = threading.Semaphore(0)

    def run_backfill(backfill_id: int) -> str:
        ran.append(backfill_id)
        store.update_backfill(backfill_id, status="done")
        done.release()
        return "done"

    scheduler.run_backfill = run_backfill
    lock = store.lock(f"backfill-{held}")
    assert lock.acquire()  # another process is running this one
    scheduler.tick()
    assert done.acquire(timeout=30)
    cycles.finish("a")
    clock.now = 10.0
    scheduler.tick()
    scheduler.join(30)
    assert ran == [queued]
    assert finished not in ran and elsewhere not in ran
    lock.release()
    clock.now = 20.0
    scheduler.tick()
    assert done.acquire(timeout=30)
    scheduler.join(30)
    assert ran == [queued, held]


def test_nothing_to_schedule_is_a_config_error(tmp_path: Path) -> None:
    cfg, store = setup(tmp_path, {"seed": {"mode": "historical"}})
    with pytest.raises(ConfigError, match="no incremental pipelines"):
        Scheduler(cfg, store)


def test_a_backfill_that_stopped_unfinished_is_tried_again_after_a_rest(tmp_path: Path) -> None:
    scheduler, cycles, clock = make(tmp_path, {"a": {"mode": "incremental"}}, backfills=True)
    store = scheduler.store
    bid = store.create_backfill({"pipeline": "a", "kind": "backfill", "range_start": "2025-01-01",
                                 "range_end": "2025-01-02", "chunk_seconds": 86400, "parallel": 1,
                                 "max_attempts": 3}, [("2025-01-01", "2025-01-02")])
    ran: list[float] = []
    done = threading.Semaphore(0)

    def run_backfill(backfill_id: int) -> str:  # the source's quota ran out: stopped, checkpointed
        ran.append(clock.now)
        store.update_backfill(backfill_id, status="stopped" if len(ran) == 1 else "done")
        done.release()
        return "stopped"

    scheduler.run_backfill = run_backfill
    scheduler.tick()
    assert done.acquire(timeout=30)
    cycles.finish("a")
    scheduler.join(30)
    for now in (60.0, 600.0, 899.0):
        clock.now = now
        scheduler.tick()
        if scheduler.jobs["a"].running:
            cycles.finish("a")
    assert ran == [0.0]
    clock.now = 905.0  # the next ledger poll after the 900 s rest
    scheduler.tick()
    assert done.acquire(timeout=30)
    scheduler.join(30)
    assert ran == [0.0, 905.0] and store.backfills(backfill_id=bid)[0]["status"] == "done"
