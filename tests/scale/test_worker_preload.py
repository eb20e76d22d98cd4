"""A `udc worker` loads before forking its pool what each task's first HTTP client would otherwise load in the pool
process (httpcore, h11, trio…: 0.1-0.3 s on a busy machine, paid by every worker at the start of every backfill).
Python's own import log (PYTHONPROFILEIMPORTTIME) lists the first import of every module of every process of the
worker, in order, in the worker's log: after the task is received, none of them is imported."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from backfill.conftest import START, Harness
from udc.scale.tasks import chunk
from udc.sync.backfill import create_backfill

from .conftest import start_workers, stop_workers, worker_logs

HTTP_MODULES = {"httpcore", "h11", "trio", "anyio", "sniffio", "certifi", "ssl"}


def imported(lines: list[str]) -> set[str]:
    """The top-level packages of the modules in these lines of an import log."""
    return {line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines if line.startswith("import time:")}


def test_a_workers_tasks_find_the_http_modules_loaded(tmp_path: Path, make_sim, queue: str) -> None:
    sim = make_sim({"incident": 300}, days=2)
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "batch_size": 50, "tables": ["incident"]}})
    bid = create_backfill(h.config, h.store, "live", START, START + timedelta(days=2), parallel=1)
    logs = tmp_path / "logs"
    logs.mkdir()
    started = start_workers(1, queue, logs, PYTHONPROFILEIMPORTTIME="1")
    try:
        assert chunk.delay(str(h.path), bid, 10.0).get(timeout=90) == "done", worker_logs(logs)
    finally:
        stop_workers(started)
    log = worker_logs(logs).splitlines()
    received = next(i for i, line in enumerate(log) if "Task udc.chunk[" in line and "received" in line)
    assert {"httpcore", "h11"} <= imported(log[:received])
    assert h.store.execute("SELECT count(*) FROM records")[0][0] > 0  # the task did read the source over HTTP
    assert not imported(log[received:]) & HTTP_MODULES, sorted(imported(log[received:]))
