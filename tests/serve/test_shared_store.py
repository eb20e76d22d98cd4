"""`udc serve` over a PostgreSQL store that several hosts share (docs/compose: the dashboard in a container of its
own, the workers in others): a process id of another host cannot be looked up from the dashboard's, so its runs in
progress are not `crashed`, and a backfill whose chunks a worker holds under a live lease is not `interrupted`."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from udc.config import load_config
from udc.serve.views import Views
from udc.store import open_reader
from udc.store.postgres import PostgresStore
from udc.sync.backfill import create_backfill
from udc.timeutil import utcnow


def dead_pid() -> int:
    """The id of a process that has ended (not reused so soon)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_other_hosts_runs_and_leased_chunks_are_taken_at_their_word(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "udc.yaml"
    path.write_text(yaml.safe_dump({
        "store": pg_url,
        "connectors": {"snow": {"type": "servicenow", "instance_url": "http://127.0.0.1:9",
                                "auth": {"type": "basic", "username": "u", "password": "env:UNUSED_PW"}}},
        "pipelines": {"p": {"connector": "snow", "mode": "incremental", "tables": ["incident"]}}}))
    cfg = load_config(path, secrets_for=())
    store = PostgresStore(pg_url)
    here, there = store.begin_run("p", "backfill"), store.begin_run("p", "backfill")
    gone = dead_pid()
    store.execute("UPDATE runs SET pid = %s", (gone,))
    store.execute("UPDATE runs SET host = 'worker-container' WHERE id = %s", (there,))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    backfill = create_backfill(cfg, store, "p", start, start + timedelta(days=3), chunk=timedelta(days=1))
    store.update_backfill(backfill, status="running", pid=gone)  # its scheduler: a process of another host
    assert store.claim_chunk(backfill, "worker-container:7", lease_seconds=60) is not None
    store.close()

    def seen(clock_minutes: int) -> tuple[dict[int, str], str]:
        views = Views(cfg, open_reader(cfg.store), clock=lambda: utcnow() + timedelta(minutes=clock_minutes))
        runs = {run["id"]: run["status"] for run in views.runs("p")["runs"]}
        listed = views.backfills()["backfills"][0]["status"]
        assert views.backfill(backfill)["status"] == listed
        views.reader.close()
        return runs, listed

    assert seen(0) == ({here: "crashed", there: "running"}, "running")
    assert seen(5)[1] == "interrupted"  # the worker's lease ran out and nothing else drives it
