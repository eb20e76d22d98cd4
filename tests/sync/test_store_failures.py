"""When the store's file fails (disk full, I/O error, read-only, damaged): one clear message with the fix, a
non-zero exit, no traceback, and nothing half-written — the next run completes the data exactly."""

from __future__ import annotations

import os
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from udc.store.sqlite import store_failure

from .conftest import Harness, source_truth, stored_truth, write_config


@pytest.mark.parametrize(("said", "what", "fix"), [
    ("database or disk is full", "the disk holding the store is full", "free space"),
    ("disk I/O error", "the store's disk failed", "ulimit -f"),
    ("attempt to write a readonly database", "read-only to this process", "write access"),
    ("database disk image is malformed", "the store file is damaged", "restore it from a backup"),
    ("file is not a database", "not a SQLite database", "point `store:` at a new path"),
    ("database is locked", "held the store's write lock", "udc status"),
])
def test_sqlite_errors_say_what_happened_to_the_store_and_the_fix(said: str, what: str, fix: str) -> None:
    failure = store_failure(sqlite3.OperationalError(said), "/data/udc.db")
    assert what in failure.message and "/data/udc.db" in failure.message and said in failure.message
    assert fix in failure.hint and "resumes after the last stored page" in failure.hint


@pytest.mark.sqlite_only
def test_a_store_that_cannot_grow_fails_the_sync_clearly_and_the_next_run_completes_it(tmp_path: Path,
                                                                                       make_sim) -> None:
    sim = make_sim({"incident": 1500})
    h = Harness(tmp_path, sim, {"hist": {"batch_size": 50, "tables": ["incident"]}})
    limit = 1 << 20  # no file udc writes may pass 1 MB: its WAL reaches that after a few pages

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    failed = subprocess.run([sys.executable, "-m", "udc", "sync", "--pipeline", "hist", "--config", str(h.path)],
                            capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"},
                            preexec_fn=small_files, timeout=120)
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert "the store's disk failed a read or write" in output and "ulimit -f" in output, output
    assert "Traceback" not in output
    stored_first = stored_truth(h)
    assert 0 < len(stored_first) < 1500  # some pages were stored before the limit, none after
    assert all(sim_row == stored_first[pk] for pk, sim_row in source_truth(sim).items() if pk in stored_first)
    summary = h.sync("hist")
    assert summary.status == "succeeded"
    assert stored_truth(h) == source_truth(sim)


@pytest.mark.sqlite_only
def test_a_store_path_that_is_not_a_database_is_refused_with_the_fix(tmp_path: Path, make_sim) -> None:
    path = write_config(tmp_path, make_sim({"incident": 5}), {"hist": {"tables": ["incident"]}})
    (tmp_path / "udc.db").write_bytes(b"these are not the records you are looking for" * 100)
    done = subprocess.run([sys.executable, "-m", "udc", "status", "--config", str(path)], capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": "200"}, timeout=60)
    assert done.returncode == 1
    assert "not a SQLite database" in done.stderr and "point `store:` at a new path" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
