"""kill -9 a `udc backfill` process mid-flight, then `udc backfill --resume ID`: every chunk ends done, nothing is
read or stored twice, and interrupted chunks continue after their last committed page."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from udc.records import Position
from udc.sync.backfill import backfill_status, state_owner
from udc.timeutil import parse_time, snow_time

from .conftest import Harness, source_truth


def kill_mid_chunk(h: Harness, proc: subprocess.Popen[bytes], first: int, delay: float, bid: int) -> None:
    """kill -9 `proc` `delay` seconds into the first table request, from the `first`th on, at which some chunk has
    committed pages but is not done. The request is held until the kill, so its chunk cannot move on meanwhile."""
    fired = threading.Event()

    def hook(_request: object) -> None:
        states = h.store.all_state(state_owner(bid)).values()
        if not fired.is_set() and any(s.get("position") and not s.get("done") for s in states):
            fired.set()
            time.sleep(delay)
            # the run and its writer child: a writer left alive would commit pages after the test read where the
            # chunks stand (a crash with only the parent killed is no crash)
            os.killpg(proc.pid, signal.SIGKILL)

    for n in range(first, first + 5000):
        h.sim.on_request(n, hook)


@pytest.mark.both_stores
def test_kill_9_mid_backfill_then_resume(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 5400})  # 45 to 1000 records a day: every chunk spans pages, so kills land mid-chunk
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "batch_size": 25, "tables": ["incident"]}})
    rng = random.Random(11)
    proc = h.udc("backfill", "--pipeline", "live", "--start", "2025-01-01", "--end", "2025-01-31", "--parallel", "3")
    bid = 1
    partial: dict[str, Position] = {}
    kills = 0
    # three kills, and more (up to five) until one has left a chunk between pages: the other chunks in flight may
    # finish while the kill is on its way, so a single kill cannot promise that
    while kills < 3 or (not partial and kills < 5):
        if kills:
            proc = h.udc("backfill", "--resume", str(bid))
        delay = rng.random() * 0.02  # anywhere: mid-request, mid-parse, mid-transaction
        kill_mid_chunk(h, proc, sim.table_request_count + rng.randint(15, 40), delay, bid)
        proc.wait(timeout=120)
        assert proc.returncode == -signal.SIGKILL
        kills += 1
        # where each unfinished chunk stands, as committed with its pages
        partial = {key: Position.from_json(value["position"])
                   for key, value in h.store.all_state(state_owner(bid)).items()
                   if value.get("position") and not value.get("done")}
    assert partial, "some chunk was killed between pages"
    status = backfill_status(h.store, bid)
    assert status["status"] == "interrupted" and 0 < status["chunks_done"] < status["chunks_total"] == 30
    cli = h.udc("status")
    out, _ = cli.communicate(timeout=60)
    assert f"backfill #{bid} interrupted" in out.decode()
    requests_before = len(sim.requests)
    final = h.udc("backfill", "--resume", str(bid), "--json")
    out, err = final.communicate(timeout=180)
    assert final.returncode == 0, err.decode()

    chunks = h.store.chunks(bid)
    assert [c["status"] for c in chunks] == ["done"] * 30
    assert all(c["attempts"] == 1 for c in chunks)  # --resume starts the chunks of the killed process afresh
    expected = source_truth(sim, start="2025-01-01", end="2025-01-31")
    assert h.stored() == expected
    # nothing read twice: the rows tallied with the committed pages add up to exactly the source's records
    assert sum(c["rows"]["incident"]["rows"] for c in chunks) == len(expected)
    assert h.store.execute("SELECT count(*), count(DISTINCT pk) FROM records WHERE dataset = 'snow/incident'")[0] \
        == (len(expected), len(expected))
    # interrupted chunks continued after their last stored page instead of starting over
    queries = [r.arg("sysparm_query") or "" for r in sim.requests[requests_before:]
               if r.path == "/api/now/table/incident"]
    for key, position in partial.items():
        resumed = f"sys_updated_on={snow_time(parse_time(position.cursor))}^sys_id>{position.pk}"
        assert any(resumed in q for q in queries), key
    report = json.loads(out)
    assert report["status"] == "done" and report["chunks_done"] == 30 and report["rows"] == len(expected)
