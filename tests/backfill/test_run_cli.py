"""`udc run` as users run it: a queued backfill and incremental cycles in one process, one rate budget, and
SIGTERM stopping it cleanly. Synchronised on the command's own output lines."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import yaml

from udc.sources import build_source
from udc.sync.backfill import backfill_status

from .conftest import Harness, source_truth


def read_until(proc: subprocess.Popen[bytes], needle: str, seen: list[str]) -> None:
    assert proc.stderr is not None
    for raw in proc.stderr:
        line = raw.decode()
        seen.append(line)
        if needle in line:
            return
    raise AssertionError(f"'{needle}' never came; output:\n{''.join(seen)}")


def test_udc_run_runs_queued_backfills_beside_cycles_and_stops_on_sigterm(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 200})
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "frequency": "1m", "max_calls_per_minute": 6000,
                                         "tables": ["incident"]}})
    queued = h.udc("backfill", "--pipeline", "live", "--start", "2025-01-01", "--end", "2025-02-01", "--queue")
    out, err = queued.communicate(timeout=60)
    assert queued.returncode == 0 and b"queued backfill #1" in out, err.decode()
    assert backfill_status(h.store, 1)["status"] == "queued"

    proc = h.udc("run")
    seen: list[str] = []
    try:
        read_until(proc, "backfill #1: done", seen)
        if not any("live: cycle succeeded" in line for line in seen):
            read_until(proc, "live: cycle succeeded", seen)
        proc.send_signal(signal.SIGTERM)
        read_until(proc, "stopped", seen)
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
    assert h.stored() == source_truth(sim, end="2025-02-01 00:00:00")
    assert backfill_status(h.store, 1)["status"] == "done"
    assert "incremental:incident" in h.store.all_state("live")


def test_cycles_and_backfill_chunks_share_one_rate_budget(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 10})
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "max_calls_per_minute": 120, "tables": ["incident"]},
                                "other": {"mode": "incremental", "max_calls_per_minute": 120, "tables": ["problem"]}})
    first, second, third = (build_source(h.config, p) for p in ("live", "live", "other"))
    try:
        # one call log per connector: every pipeline's cycles and every backfill chunk count against it
        logs = [source.client.budget.log for source in (first, second, third)]  # type: ignore[attr-defined]
        assert logs[0] is logs[1] is logs[2]
    finally:
        for source in (first, second, third):
            source.close()


def test_a_backfill_stopped_by_ctrl_c_exits_130_and_resumes(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 3000})
    h = Harness(tmp_path, sim, {"hist": {"batch_size": 20, "tables": ["incident"]}})
    proc = h.udc("backfill", "--pipeline", "hist", "--start", "2025-01-01", "--end", "2025-07-01", "--parallel", "1")
    seen: list[str] = []

    def ctrl_c(_request: object) -> None:  # before this request is answered: the backfill cannot finish meanwhile
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)

    h.sim.on_request(h.sim.table_request_count + 20, ctrl_c)
    try:
        read_until(proc, "udc backfill --resume 1", seen)
        assert proc.wait(timeout=60) == 130
    finally:
        proc.kill()
    assert backfill_status(h.store, 1)["status"] != "done"
    resumed = h.udc("backfill", "--resume", "1")
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()
    assert h.stored() == source_truth(sim, end="2025-07-01 00:00:00")


def test_resume_reads_the_secrets_of_its_own_pipeline_only(tmp_path: Path, make_sim) -> None:
    """`udc backfill --resume ID` reads the secret of the backfill's pipeline, not every pipeline's: another
    connector's password that cannot be read on this machine does not stop it."""
    sim = make_sim({"incident": 200})
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "tables": ["incident"]}})
    queued = h.udc("backfill", "--pipeline", "live", "--start", "2025-01-01", "--end", "2025-01-08", "--queue")
    out, err = queued.communicate(timeout=60)
    assert queued.returncode == 0 and b"queued backfill #1" in out, err.decode()
    config = yaml.safe_load(h.path.read_text())
    config["connectors"]["elsewhere"] = {**config["connectors"]["snow"], "auth": {
        "type": "basic", "username": "svc", "password": "env:UDC_TEST_SECRET_NOT_ON_THIS_HOST"}}
    config["pipelines"]["other"] = {"connector": "elsewhere", "tables": ["incident"]}
    h.path.write_text(yaml.safe_dump(config, sort_keys=False))
    resumed = h.udc("backfill", "--resume", "1")
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()
    assert backfill_status(h.store, 1)["status"] == "done"
    assert h.stored() == source_truth(sim, start="2025-01-01", end="2025-01-08")
    other = h.udc("backfill", "--pipeline", "other", "--start", "2025-01-01", "--end", "2025-01-02")
    assert other.wait(timeout=60) == 2  # that pipeline's own commands do need it
    assert b"UDC_TEST_SECRET_NOT_ON_THIS_HOST" in other.communicate()[1]
