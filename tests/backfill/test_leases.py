"""Chunk leases: runners that share a backfill through the ledger's claims. A chunk held by a worker that stopped
renewing (killed on another host) is taken over once its lease runs out and finished, counted once."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from udc.cli import app
from udc.sync.backfill import BackfillRunner, backfill_status, create_backfill

from .conftest import START, Harness, source_truth


def test_a_chunk_whose_worker_stopped_renewing_is_taken_over_when_its_lease_runs_out(tmp_path: Path,
                                                                                      make_sim) -> None:
    sim = make_sim({"incident": 400})
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "batch_size": 20, "tables": ["incident"]}})
    bid = create_backfill(h.config, h.store, "live", START, START + timedelta(days=6), parallel=2)
    held = h.store.claim_chunk(bid, "elsewhere:99", 1.5)  # a worker on another host, which then dies
    assert held is not None and held["seq"] == 6
    status = backfill_status(h.store, bid)
    assert status["status"] == "queued" and status["running"] == [
        {"seq": 6, "start": held["chunk_start"], "end": held["chunk_end"], "attempts": 1, "worker": "elsewhere:99"}]
    shown = CliRunner().invoke(app, ["backfill", "status", str(bid), "--config", str(h.path)])
    assert shown.exit_code == 0 and "running chunk 6 2025-01-06 on elsewhere:99 (attempt 1)" in shown.output
    began = time.monotonic()
    runner = BackfillRunner(h.config, h.store, bid, exclusive=False, lease=30)
    runner_name = runner.worker
    report = runner.run()
    assert report.status == "done" and report.chunks_done == 6
    assert time.monotonic() - began >= 1.0  # it waited for the lease rather than taking a chunk still held
    chunks = h.store.chunks(bid)
    assert [(c["status"], c["attempts"], c["lease_until"]) for c in chunks] == [("done", 1, None)] * 5 + [
        ("done", 2, None)]  # the abandoned attempt counts, its worker named
    assert [(e["attempt"], e["worker"], e["abandoned"]) for e in chunks[-1]["errors"]] == [(1, "elsewhere:99", True)]
    assert chunks[-1]["worker"] == runner_name  # taken over
    expected = source_truth(sim, start="2025-01-01", end="2025-01-07")
    assert h.stored() == expected
    assert sum(c["rows"]["incident"]["rows"] for c in chunks) == len(expected)  # chunk 6 counted once


def test_runners_sharing_a_backfill_split_its_chunks(tmp_path: Path, make_sim) -> None:
    """Two runners at once (as two Celery workers would be) claim disjoint chunks; the backfill ends done once."""
    sim = make_sim({"incident": 600})
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "batch_size": 10, "tables": ["incident"]}})
    bid = create_backfill(h.config, h.store, "live", START, START + timedelta(days=10), parallel=1)
    sim.faults.latency = 0.01
    ran: dict[int, list[int]] = {0: [], 1: []}
    runners = [BackfillRunner(h.config, h.store, bid, exclusive=False, parallel=1,
                              on_chunk=lambda outcome, chunk, n=n: ran[n].append(chunk["seq"])) for n in range(2)]
    runners[1].worker = "other-worker:1"  # two claimants in one process
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda r: r.run(), runners))
    assert {r.status for r in reports} == {"done"}
    assert ran[0] and ran[1] and sorted(ran[0] + ran[1]) == list(range(1, 11))
    chunks = h.store.chunks(bid)
    assert all(c["status"] == "done" and c["attempts"] == 1 for c in chunks)
    expected = source_truth(sim, start="2025-01-01", end="2025-01-11")
    assert h.stored() == expected and sum(c["rows"]["incident"]["rows"] for c in chunks) == len(expected)
    assert h.store.backfills(backfill_id=bid)[0]["status"] == "done"
