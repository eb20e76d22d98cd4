"""The work Celery workers do, and the executor `udc run --executor celery` sends it through.

A task carries names only — the config file's path, a pipeline, a backfill id — never a secret: each worker reads
the config and its secrets (`env:`, `file:`) where it runs. `udc.cycle` runs one incremental cycle under the
pipeline's lock (a cycle already running anywhere makes it skip: cycles never overlap); `udc.chunk` claims chunks
of a backfill from the ledger under a lease and runs them one at a time until none is left, waiting for chunks other
workers hold and taking over those whose lease runs out.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from celery.result import AsyncResult

from udc.config import load_config
from udc.errors import LockHeld, UdcError
from udc.scale.app import app
from udc.secrets import scrub
from udc.store import Store, open_store
from udc.sync.backfill import DEFAULT_LEASE, BackfillRunner
from udc.sync.engine import Engine
from udc.sync.pump import Stop

log = logging.getLogger("udc.scale")


def run_cycle(config_path: str, pipeline: str) -> str:
    """One incremental cycle of `pipeline`: its status, or "skipped" when a cycle of it is running elsewhere."""
    try:
        cfg = load_config(config_path, [pipeline])
        store = open_store(cfg.store, cfg.store_secret())
    except UdcError as exc:  # said as the command line says it: what, and the fix (no traceback)
        return _failed(f"cycle of {pipeline}", exc)
    try:
        return Engine(cfg, store).sync(pipeline).status
    except LockHeld as exc:
        log.info("%s: %s", pipeline, exc.message)
        return "skipped"
    except UdcError as exc:
        return _failed(f"cycle of {pipeline}", exc)
    finally:
        store.close()


def run_chunks(config_path: str, backfill_id: int, lease: float = DEFAULT_LEASE) -> str:
    """Claim and run chunks of backfill `backfill_id` until every chunk is settled; the backfill's status."""
    try:
        cfg = load_config(config_path, [])
        store = open_store(cfg.store, cfg.store_secret())
    except UdcError as exc:
        return _failed(f"backfill #{backfill_id}", exc)
    try:
        pipeline = store.backfills(backfill_id=backfill_id)
        if pipeline:  # the secrets of the backfill's own connector, now that its pipeline is known
            cfg = load_config(config_path, [pipeline[0]["pipeline"]])
        return BackfillRunner(cfg, store, backfill_id, exclusive=False, parallel=1, lease=lease).run().status
    except UdcError as exc:
        return _failed(f"backfill #{backfill_id}", exc)
    finally:
        store.close()


def _failed(what: str, exc: UdcError) -> str:
    log.error("%s failed: %s%s", what, scrub(exc.message), f" (fix: {scrub(exc.hint)})" if exc.hint else "")
    return "failed"


# Celery's decorator is untyped: the tasks are registered from the typed functions above
cycle: Any = app.task(name="udc.cycle")(run_cycle)
chunk: Any = app.task(name="udc.chunk")(run_chunks)


class CeleryExecutor:
    """The scheduler's `run_cycle` and `run_backfill`, as tasks on the workers: each call waits for its tasks (so the
    scheduler's no-overlap and no-stacking rules hold as they do locally), returning early when `stop` is set."""

    def __init__(self, config_path: Path, store: Store, stop: Stop, lease: float = DEFAULT_LEASE,
                 poll: float = 1.0) -> None:
        self.config_path = str(config_path.resolve())  # the workers read the same file (a shared path)
        self.store, self.stop, self.lease, self.poll = store, stop, lease, poll

    def cycle(self, pipeline: str) -> str:
        return self._wait([cycle.delay(self.config_path, pipeline)])

    def backfill(self, backfill_id: int) -> str:
        """One chunk task per chunk the backfill may run at once (its --parallel): that many worker processes share
        it at most."""
        rows = self.store.backfills(backfill_id=backfill_id)
        parallel = int(rows[0]["parallel"]) if rows else 1
        return self._wait([chunk.delay(self.config_path, backfill_id, self.lease) for _ in range(parallel)])

    def _wait(self, results: list[AsyncResult]) -> str:
        statuses: list[str] = []
        for result in results:
            while not self.stop:
                if result.ready():
                    statuses.append(str(result.get(propagate=False)) if result.successful() else "failed")
                    break
                self.stop.event.wait(self.poll)
            else:
                return "stopped"  # the workers finish what they hold; the next run picks the rest up
            result.forget()
        return next((s for s in ("failed", "stopped", "running") if s in statuses), statuses[-1] if statuses else "")


__all__ = ["CeleryExecutor", "chunk", "cycle", "run_chunks", "run_cycle"]
