"""kill -9 of the whole process tree — the sync and its store writer child — at random instants, many times over.

The source counts every record it serves, page by page. After each kill the store must hold exactly the records
the source ordered before the stream's stored position (data and progress commit together, invariant 1: no record
stored past its position, none missing before it), and the next run must ask the source for the page right after
that position (nothing re-read, nothing skipped). This is checked against the source's own order and pages, not
against the store's UNIQUE constraint, which would make "no duplicates" true by construction.

The seed changes every run and is printed (UDC_TORTURE_SEED replays one); `pytest --long` runs 200 kills.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from udc.simulators.base import Request, Response
from udc.simulators.servicenow import ServiceNowSim
from udc.store import SqliteStore

START = datetime(2025, 1, 1, tzinfo=UTC)
BATCH = 25
PASSWORD = "kill-tree-pw-1234"


class CountingSim(ServiceNowSim):
    """Records, per incident page served, the keys of the rows in it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pages: list[tuple[str | None, list[tuple[str, str]]]] = []  # (the query, its rows' keys)

    def handle(self, request: Request) -> Response:
        response = super().handle(request)
        if request.path == "/api/now/table/incident" and response.status == 200:
            rows = orjson.loads(response.body)["result"]
            with self._log_lock:
                self.pages.append((request.arg("sysparm_query"),
                                   [(r["sys_updated_on"], r["sys_id"]) for r in rows]))
        return response


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def sync_in_fork(config: Path) -> int:
    """`udc sync` in a forked copy of this process (udc already imported: a round costs no interpreter start)."""
    from udc.cli import app

    pid = os.fork()
    if pid == 0:  # the child: the real command, its output discarded
        code = 1
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (the process ends below)
            app(["sync", "--pipeline", "hist", "--config", str(config)], standalone_mode=False)
            code = 0
        except BaseException:  # noqa: BLE001 (any failure is an exit code for the parent to see)
            code = 1
        finally:
            os._exit(code)
    return pid


def stored_keys(db: Path) -> tuple[set[tuple[str, str]], tuple[str, str] | None]:
    store = SqliteStore(db, write_process=False)
    try:
        rows = store.execute("SELECT cursor, pk FROM records WHERE dataset = 'snow/incident'")
        state = store.get_state("hist", "historical:incident")
    finally:
        store.close()
    position = (_source_time(state["position"][0]), str(state["position"][1])) if state and state.get("position") \
        else None
    return {(_source_time(c), pk) for c, pk in rows}, position


def _source_time(stored: str) -> str:
    """A stored cursor (2025-01-04T06:41:47.000000Z) as the source writes it (2025-01-04 06:41:47)."""
    return stored[:19].replace("T", " ")


def test_kill_9_of_the_process_tree_at_random_instants(tmp_path: Path, snow_sims: Callable[..., ServiceNowSim],
                                                      request: pytest.FixtureRequest) -> None:
    kills = 200 if request.config.getoption("--long") else 20
    seed = int(os.environ.get("UDC_TORTURE_SEED") or time.time_ns() % 1_000_000_007)
    print(f"kill-tree torture: {kills} kills, seed {seed} (replay: UDC_TORTURE_SEED={seed})")
    rng = random.Random(seed)
    count = kills * 8 * BATCH + 20 * BATCH  # every kill lands before the end (a round reads 2-9 pages)
    sim = CountingSim(seed=seed % 1000, counts={"incident": count}, start=START, span=timedelta(days=150),
                      users={"svc_udc": PASSWORD})
    sim.clock = START + timedelta(days=200)
    sim.start()
    try:
        _torture(tmp_path, sim, rng, kills, seed)
    finally:
        sim.stop()


def _torture(tmp_path: Path, sim: CountingSim, rng: random.Random, kills: int, seed: int) -> None:
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD)
    config = tmp_path / "udc.yaml"
    config.write_text(yaml.safe_dump({
        "store": "sqlite:///udc.db",
        "connectors": {"snow": {"type": "servicenow", "instance_url": sim.url,
                                "auth": {"type": "basic", "username": "svc_udc", "password": f"file:{secret}"}}},
        "pipelines": {"hist": {"connector": "snow", "batch_size": BATCH, "tables": ["incident"]}}}))
    db = tmp_path / "udc.db"
    order = [(r["sys_updated_on"], r["sys_id"]) for r in sim.records("incident")]  # the source's own order
    where = f"(seed {seed})"
    position: tuple[str, str] | None = None
    trees_killed = 0
    for round_ in range(kills + 1):
        pages_before = len(sim.pages)
        pid = sync_in_fork(config)
        last = round_ == kills
        if not last:  # kill sync and writer together, while the Nth page of this run is served (or just after)
            victims: list[int] = []

            def kill(_request: Request, pid: int = pid, victims: list[int] = victims) -> None:
                def now() -> None:
                    tree = [pid, *children(pid)]
                    rng.shuffle(tree)
                    for victim in tree:
                        os.kill(victim, signal.SIGKILL)
                    victims.extend(tree)
                threading.Timer(rng.random() * 0.02, now).start()

            sim.on_request(sim.table_request_count + rng.randint(2, 6), kill)
        _, status = os.waitpid(pid, 0)
        if last:
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, where
        else:
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"round {round_} {where}"
            trees_killed += len(victims) == 2  # the writer child was alive and was killed too
        run_pages = sim.pages[pages_before:]
        # the run started exactly after the stored position: its first page is the source's next records
        next_index = 0 if position is None else order.index(position) + 1
        if run_pages:  # (a kill can land before the run's first page)
            assert run_pages[0][1][:1] == order[next_index:next_index + 1], f"round {round_} resumed elsewhere {where}"
        stored, position = stored_keys(db)
        if last:
            break
        # data and progress committed together: the store holds the source's order up to the position, exactly
        upto = 0 if position is None else order.index(position) + 1
        assert stored == set(order[:upto]), f"round {round_}: store and position disagree {where}"
    assert stored == set(order), where
    assert trees_killed >= kills * 3 // 4, f"the writer was not alive at most kills {where}"
    # every record the source served was served once, except pages in flight at a kill (served again after it)
    served = [key for _, keys in sim.pages for key in keys]
    assert set(served) == set(order)
    assert len(served) - len(set(served)) <= kills * 2 * BATCH, where
