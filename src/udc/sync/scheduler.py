"""`udc run`: keep incremental pipelines syncing at their frequency, and run queued backfills alongside.

Every cycle and every backfill runs in its own thread of this process, so they all draw from the same
per-connector rate budget (`udc.http.budget.shared_budget`). Two cycles of one pipeline never overlap: a cycle of a
pipeline starts only when its previous one here has finished, and `Engine.sync` holds the pipeline's crash-proof
lock, so a cycle elsewhere (another `udc run`, a manual `udc sync`) makes this one skip its turn. A slow cycle
delays the next one instead of stacking: the next cycle is due `frequency` after the previous one *started*, or
at once when that moment has already passed — never twice to catch up.

A stop request (SIGTERM/SIGINT) starts no new work; running cycles and backfills stop after the page they are
storing commits, and `run()` returns when they have.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from udc.config import Config
from udc.errors import ConfigError, LockHeld
from udc.store import Store
from udc.sync.backfill import UNFINISHED, BackfillRunner, lock_for
from udc.sync.engine import Engine
from udc.sync.pump import Stop

log = logging.getLogger("udc.scheduler")

EventHook = Callable[[str, dict[str, Any]], None]


@dataclass
class Job:
    """One scheduled pipeline."""

    pipeline: str
    every: float  # seconds
    due: float = 0.0
    running: bool = False
    started: float = 0.0
    cycles: int = 0
    skipped: int = 0
    last_status: str = ""
    thread: threading.Thread | None = field(default=None, repr=False)


def scheduled(config: Config, pipelines: list[str] | None) -> list[str]:
    """The pipelines whose cycles `udc run` schedules: the incremental ones among those named (an unknown name is a
    ConfigError), or every incremental one (none is a ConfigError)."""
    names = [n for n in pipelines or config.pipelines if config.pipeline(n).mode == "incremental"]
    if pipelines is None and not names:
        raise ConfigError("no incremental pipelines to schedule",
                          "set `mode: incremental` on a pipeline, or name pipelines with --pipeline")
    return names


class Scheduler:
    """Call `run()` (blocks until `stop` is set), or drive `tick()` yourself with an injected clock in tests.

    `run_cycle(pipeline)` runs one incremental cycle (default: `Engine.sync`) and returns its status; it may raise
    `LockHeld` when the pipeline is already syncing elsewhere. `run_backfill(id)` runs one backfill (default: a
    `BackfillRunner` from the ledger). `clock` is monotonic seconds.
    """

    def __init__(self, config: Config, store: Store, pipelines: list[str] | None = None, *,
                 stop: Stop | None = None, clock: Callable[[], float] = time.monotonic,
                 run_cycle: Callable[[str], str] | None = None, run_backfill: Callable[[int], str] | None = None,
                 backfills: bool = True, poll: float = 5.0, on_event: EventHook | None = None) -> None:
        self.config, self.store = config, store
        self.stop = stop if stop is not None else Stop()  # an unset Stop is falsy: `or` would drop it
        self.clock = clock
        self.poll = poll
        self.on_event = on_event or (lambda kind, info: None)
        self.run_cycle = run_cycle or self._sync
        self.run_backfill = run_backfill or self._backfill
        self.with_backfills = backfills
        cycles = scheduled(config, pipelines)
        self.pipelines = pipelines or cycles  # whose queued backfills run here
        self.jobs = {n: Job(n, config.pipeline(n).frequency.total_seconds()) for n in cycles}
        self.backfill_threads: dict[int, threading.Thread] = {}
        self._backfill_ended: dict[int, float] = {}
        self.backfill_cooldown = 900.0  # seconds before a backfill that stopped unfinished here is tried again
        self._next_poll = 0.0
        self._wake = threading.Event()
        self._mutex = threading.Lock()

    # -- the loop ------------------------------------------------------------------------------------------------
    def run(self) -> None:
        self.on_event("started", {"pipelines": list(self.jobs), "backfills": self.with_backfills})
        try:
            while not self.stop:
                delay = self.tick()
                self._wake.wait(min(delay, 0.5))  # short, so a stop request is seen promptly
                self._wake.clear()
        finally:
            self.join()
            self.on_event("stopped", {})

    def join(self, timeout: float | None = None) -> None:
        """Wait for every running cycle and backfill to return."""
        threads = [j.thread for j in self.jobs.values() if j.thread] + list(self.backfill_threads.values())
        for thread in threads:
            thread.join(timeout)

    def tick(self) -> float:
        """Start whatever is due; return seconds until something may next be due."""
        now = self.clock()
        if self.stop:
            return self.poll
        delays = [self.poll]
        for job in self.jobs.values():
            with self._mutex:
                if job.running:
                    continue
                if now < job.due:
                    delays.append(job.due - now)
                    continue
                job.running, job.started = True, now
            job.thread = threading.Thread(target=self._cycle, args=(job,), name=f"cycle-{job.pipeline}", daemon=True)
            job.thread.start()
        if self.with_backfills and now >= self._next_poll:
            self._next_poll = now + self.poll
            self._start_backfills()
        return max(0.0, min(delays))

    def _cycle(self, job: Job) -> None:
        self.on_event("cycle-start", {"pipeline": job.pipeline, "cycle": job.cycles + 1})
        status = "failed"
        try:
            status = self.run_cycle(job.pipeline)
            job.cycles += 1
        except LockHeld as exc:
            status = "skipped"
            job.skipped += 1
            log.info("%s: %s", job.pipeline, exc.message)
        except Exception as exc:  # a failed cycle must not end the scheduler; the next one retries
            log.error("%s: cycle failed: %s", job.pipeline, exc)
        finally:
            end = self.clock()
            with self._mutex:
                job.last_status = status
                job.due = max(job.started + job.every, end)
                job.running = False
            self.on_event("cycle-end", {"pipeline": job.pipeline, "status": status, "next_in": job.due - end})
            self._wake.set()

    def _start_backfills(self) -> None:
        for row in self.store.backfills():
            bid = row["id"]
            if row["status"] not in UNFINISHED or (self.pipelines and row["pipeline"] not in self.pipelines):
                continue
            thread = self.backfill_threads.get(bid)
            if thread is not None and thread.is_alive():
                continue
            ended = self._backfill_ended.get(bid)
            if ended is not None and row["status"] != "queued" and self.clock() - ended < self.backfill_cooldown:
                continue  # it stopped here (quota, retry budget): give the source a rest before trying again
            if lock_for(self.store, bid).holder() is not None:
                continue  # another process is running it
            thread = threading.Thread(target=self._backfill_thread, args=(bid,), name=f"backfill-{bid}", daemon=True)
            self.backfill_threads[bid] = thread
            thread.start()

    def _backfill_thread(self, backfill_id: int) -> None:
        self.on_event("backfill-start", {"backfill": backfill_id})
        status = "failed"
        try:
            status = self.run_backfill(backfill_id)
        except LockHeld:
            status = "skipped"
        except Exception as exc:
            log.error("backfill #%d failed: %s", backfill_id, exc)
        finally:
            self._backfill_ended[backfill_id] = self.clock()
            self.on_event("backfill-end", {"backfill": backfill_id, "status": status})
            self._wake.set()

    # -- defaults ------------------------------------------------------------------------------------------------
    def _sync(self, pipeline: str) -> str:
        return Engine(self.config, self.store, stop=self.stop).sync(pipeline).status

    def _backfill(self, backfill_id: int) -> str:
        return BackfillRunner(self.config, self.store, backfill_id, stop=self.stop).run().status


__all__ = ["Job", "Scheduler", "scheduled"]
