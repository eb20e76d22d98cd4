"""kill -9 at random instants, then resume: nothing lost, nothing duplicated, no restart from scratch."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from .conftest import Harness, source_truth, stored_truth


def udc(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.Popen([sys.executable, "-m", "udc", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


@pytest.mark.both_stores
def test_kill_9_at_random_points_then_resume(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 3000})  # 150 pages: every kill lands well before the end
    h = Harness(tmp_path, sim, {"hist": {"batch_size": 20,
                                         "tables": ["incident"]}})
    rng = random.Random(5)
    kills = 0
    for _ in range(4):
        proc = udc("sync", "--pipeline", "hist", "--config", str(h.path))
        delay = rng.random() * 0.02  # land anywhere: mid-request, mid-parse, mid-transaction
        sim.on_request(sim.table_request_count + rng.randint(6, 25),
                       lambda _r, p=proc, d=delay: threading.Timer(d, p.send_signal, (signal.SIGKILL,)).start())
        proc.wait(timeout=120)
        kills += proc.returncode == -signal.SIGKILL
        state = h.store.get_state("hist", "historical:incident")
        assert state is None or not state["done"], "the run was killed before the end"
    assert kills == 4
    resumed_from = len(stored_truth(h))
    requests_before = sim.table_request_count
    final = udc("sync", "--pipeline", "hist", "--config", str(h.path))
    _, err = final.communicate(timeout=120)
    assert final.returncode == 0, err.decode()
    assert stored_truth(h) == source_truth(sim)
    # the last run resumed after the stored pages instead of starting over
    first_query = next(r.arg("sysparm_query") for r in sim.requests[requests_before:]
                       if r.path == "/api/now/table/incident")
    assert resumed_from > 0 and "^sys_id>" in (first_query or "")
    assert h.store.execute("SELECT count(*), count(DISTINCT pk) FROM records WHERE dataset = 'snow/incident'")[0] \
        == (3000, 3000)
    assert h.store.get_state("hist", "historical:incident")["done"] is True
