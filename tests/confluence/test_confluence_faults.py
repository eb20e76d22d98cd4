"""A historical sync of each deployment under 20% mixed faults (429, 5xx, slow answers, resets, truncated bodies,
HTML instead of JSON) ends exactly equal to the source. The seed changes every run and is printed
(UDC_FAULT_SEED replays one)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from confluence_helpers import SimFactory, config_for
from test_confluence_engine import T0, TABLES, store_matches_sim

from udc.simulators.base import FAULT_KINDS
from udc.store import SqliteStore
from udc.sync.engine import Engine


@pytest.mark.parametrize("deployment", ["cloud", "server"])
def test_a_sync_under_twenty_percent_mixed_faults_ends_exact(make_sim: SimFactory, tmp_path: Path,
                                                             deployment: str) -> None:
    seed = int(os.environ.get("UDC_FAULT_SEED") or time.time_ns() % 1_000_003)
    print(f"confluence {deployment} fault campaign: seed {seed} (replay: UDC_FAULT_SEED={seed})")
    sim = make_sim(deployment, pages=600, now=T0, server_limit_cap=10, v2_page_cap=10,
                   context="/confluence" if deployment == "server" else "")
    sim.faults.retry_after, sim.faults.slow_seconds = 0, 0.6
    sim.faults.randomly(0.2, FAULT_KINDS, seed=seed)
    cfg = config_for(sim, tmp_path, pipelines={"hist": {
        "connector": "wiki", "mode": "historical", "space_keys": ["OPS", "ENG"], "batch_size": 10, "tables": TABLES,
        "request_timeout": 0.3, "max_retries": 30, "retry_budget": 5000}})
    store = SqliteStore(tmp_path / "udc.db")
    try:
        summary = Engine(cfg, store).sync("hist", now=T0)
        assert summary.status == "succeeded", (seed, summary.warnings)
        store_matches_sim(store, sim)
    finally:
        store.close()
    # faults were frequent: 20% of ≥ 60 requests, at least 5 fired (over 3 standard deviations below the mean)
    assert len(sim.requests) > 60 and len(sim.faults.fired) >= 5, seed
    assert summary.retries >= len(sim.faults.fired) - sim.faults.fired.count("502"), seed
