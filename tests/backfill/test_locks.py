"""The overlap lock: one holder at a time (threads and processes), and a killed holder's lock is taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from secret_refs import env_ref
from stores import Backend
from udc.config import load_config
from udc.errors import LockHeld
from udc.store import open_store
from udc.store.locks import NamedLock
from udc.sync.engine import Engine

HOLDER = textwrap.dedent("""
    import sys, time
    from udc.store import open_store
    lock = open_store(sys.argv[1]).lock(sys.argv[2])
    assert lock.acquire()
    print("held", flush=True)
    sys.stdin.read()  # hold until killed (or stdin closes)
""")


def hold_in_child(db: Path, name: str) -> subprocess.Popen[str]:
    """A process holding the lock `name` of the test's store (`db`, or its PostgreSQL schema)."""
    child = subprocess.Popen([sys.executable, "-c", HOLDER, Backend.store_url(db), name], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    return child


def test_a_second_holder_in_the_same_process_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "udc.db"
    first, second = NamedLock(db, "pipeline-a"), NamedLock(db, "pipeline-a")
    assert first.acquire()
    assert not second.acquire()
    assert NamedLock(db, "pipeline-b").acquire()  # other names are independent
    assert second.holder()["pid"] == os.getpid()  # type: ignore[index]
    first.release()
    assert second.acquire()
    second.release()
    assert NamedLock(db, "pipeline-a").holder() is None


@pytest.mark.both_stores
def test_a_lock_held_by_a_live_process_is_refused_and_a_killed_holders_lock_is_taken_over(tmp_path: Path) -> None:
    db = tmp_path / "udc.db"
    store = open_store(Backend.store_url(db))
    child = hold_in_child(db, "pipeline-live")
    try:
        lock = store.lock("pipeline-live")
        assert not lock.acquire()
        assert lock.holder()["pid"] == child.pid  # type: ignore[index]
        with pytest.raises(LockHeld, match=str(child.pid)), store.lock("pipeline-live"):
            pass
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        # the kernel dropped the dead holder's flock (PostgreSQL its advisory lock, once the server sees the
        # connection closed): the lock's record still names it, but nobody holds it
        deadline = time.monotonic() + 10
        while lock.holder() is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert lock.holder() is None
        assert lock.acquire()
        assert lock.previous is not None and lock.previous["pid"] == child.pid
        lock.release()
    finally:
        child.kill()
        child.wait(timeout=30)


@pytest.mark.both_stores
def test_two_syncs_of_one_pipeline_never_overlap(tmp_path: Path) -> None:
    """Engine.sync takes the pipeline's lock before anything else: while another process holds it, a sync is
    refused with the holder's pid; once that process is killed, the lock is free again."""
    db = tmp_path / "udc.db"
    config = {"store": Backend.store_url(db),
              "connectors": {"snow": {"type": "servicenow", "instance_url": "http://127.0.0.1:9",
                                      "auth": {"type": "basic", "username": "u", "password": env_ref("p")}}},
              "pipelines": {"live": {"connector": "snow", "mode": "incremental", "tables": ["incident"]}}}
    path = tmp_path / "udc.yaml"
    path.write_text(yaml.safe_dump(config))
    cfg = load_config(path)
    store = open_store(cfg.store)
    child = hold_in_child(db, "pipeline-live")
    try:
        with pytest.raises(LockHeld, match=f"process {child.pid}"):
            Engine(cfg, store).sync("live")
        assert store.runs("live") == []  # refused before a run was even recorded
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    deadline = time.monotonic() + 10
    lock = store.lock("pipeline-live")
    while not lock.acquire() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert lock.held
    lock.release()
