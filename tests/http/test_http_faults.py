"""A historical sync through a 20% mixed fault rate ends with exactly the source's records; a run whose retry
budget runs out fails cleanly, keeps what it stored, and the next run finishes from there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from http_helpers import NASTY, SNOW_USER, snow_yaml

from stores import Backend
from udc.config import load_config
from udc.simulators.base import FAULT_KINDS
from udc.simulators.servicenow import ServiceNowSim
from udc.store import Store, open_store
from udc.sync.engine import Engine, RunSummary

TABLES = ("incident", "problem", "change_request")


def run(sim: Any, tmp_path: Path, **pipeline: Any) -> tuple[RunSummary, Store]:
    path = tmp_path / "udc.yaml"
    path.write_text(snow_yaml(sim.url, str(tmp_path / "udc.db"), tables=f"[{', '.join(TABLES)}]", **pipeline))
    store = open_store(Backend.store_url(tmp_path / "udc.db"))
    return Engine(load_config(path), store).sync("p"), store


def snapshot(store: Store, table: str) -> dict[str, str]:
    return {pk: record["sys_updated_on"] for pk, record, deleted in store.iter_records(f"snow/{table}")
            if not deleted}


def truth(sim: Any, table: str) -> dict[str, str]:
    return {r["sys_id"]: r["sys_updated_on"] for r in sim.records(table)}


@pytest.fixture
def bigger(snow_env: None) -> Iterator[ServiceNowSim]:
    sim = ServiceNowSim(seed=5, counts={"incident": 900, "problem": 60, "change_request": 40},
                        users={SNOW_USER: NASTY})
    sim.start()
    yield sim
    sim.stop()


def test_historical_sync_under_twenty_percent_mixed_faults_is_exact(bigger: ServiceNowSim, tmp_path: Path) -> None:
    snow = bigger
    snow.faults.retry_after, snow.faults.slow_seconds = 1, 1.0
    snow.faults.randomly(0.2, FAULT_KINDS, seed=11)
    summary, store = run(snow, tmp_path, batch_size=10, request_timeout=0.3, max_retries=30, retry_budget=5000)
    assert summary.status == "succeeded", [s.error for s in summary.streams]
    for table in TABLES:
        assert snapshot(store, table) == truth(snow, table), table
    assert not any(s.quarantined for s in summary.streams)
    fired = set(snow.faults.fired)
    assert fired == set(FAULT_KINDS), f"not every fault kind was exercised: {set(FAULT_KINDS) - fired}"
    assert summary.retries >= len(snow.faults.fired) - snow.faults.fired.count("502")  # every fault was survived
    assert len(snow.requests) > 100 and len(snow.faults.fired) / len(snow.requests) > 0.15
    assert summary.retries <= 2 * len(snow.faults.fired)  # each fault cost a retry or two, never a storm


def test_spent_retry_budget_fails_cleanly_and_the_next_run_resumes(snow: Any, tmp_path: Path) -> None:
    # the instance starts failing once three pages of incidents were served
    pages: list[str] = []

    def watch(request: Any) -> None:
        if request.path.endswith("/incident") and "ORDERBYsys_updated_on" in (request.arg("sysparm_query") or ""):
            pages.append(request.path)
            if len(pages) == 4:
                snow.faults.randomly(1.0, ["503"])

    for n in range(1, 500):
        snow.on_request(n, watch)
    summary, store = run(snow, tmp_path, batch_size=20, retry_budget=5, max_retries=10)
    assert summary.status == "failed"
    errors = " ".join(s.error for s in summary.streams)
    assert "retry budget of 5 retries" in errors and "progress up to the last stored page is kept" in errors
    kept = sum(len(snapshot(store, t)) for t in TABLES)
    assert kept > 0
    assert store.all_state("p")["historical:incident"]["position"]  # three pages of incidents are committed

    snow.faults.clear()
    before = len(snow.requests)
    summary, store = run(snow, tmp_path, batch_size=20, retry_budget=5, max_retries=10)
    assert summary.status == "succeeded"
    for table in TABLES:
        assert snapshot(store, table) == truth(snow, table)
    resumed = [r for r in snow.requests[before:] if r.path.endswith("/incident")]
    assert "^NQ" in (resumed[0].arg("sysparm_query") or "")  # continued after its keyset, not from the start
    assert sum(len(snapshot(store, t)) for t in TABLES) - kept < sum(len(truth(snow, t)) for t in TABLES)


def test_a_stop_request_ends_the_run_checkpointed(snow: Any, tmp_path: Path) -> None:
    from udc.sync.engine import Stop

    stop = Stop()
    path = tmp_path / "udc.yaml"
    path.write_text(snow_yaml(snow.url, str(tmp_path / "udc.db"), tables="[incident]", batch_size=10))
    served: list[str] = []

    def watch(request: Any) -> None:
        if request.path.endswith("/incident") and "ORDERBYsys_updated_on" in (request.arg("sysparm_query") or ""):
            served.append(request.path)
            if len(served) == 3:
                stop.event.set()  # what SIGINT/SIGTERM do in `udc sync`

    for n in range(1, 200):
        snow.on_request(n, watch)
    store = open_store(Backend.store_url(tmp_path / "udc.db"))
    summary = Engine(load_config(path), store, stop=stop).sync("p")
    assert summary.status == "stopped"
    assert 0 < len(snapshot(store, "incident")) <= 30 < len(truth(snow, "incident"))
    assert store.all_state("p")["historical:incident"]["position"]
