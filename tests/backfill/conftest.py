"""Fixtures for backfill tests: a ServiceNow simulator on a free port, a config pointing at it, and helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sync.conftest import write_config  # one ServiceNow test config for both suites
from udc.config import Config, load_config
from udc.simulators.servicenow import ServiceNowSim
from udc.store import Store, open_store

START = datetime(2025, 1, 1, tzinfo=UTC)
AFTER_DATA = START + timedelta(days=200)  # the simulated data spans at most 180 days from START
PASSWORD = "s3cret-backfill"


@pytest.fixture
def make_sim(snow_sims: Callable[..., ServiceNowSim]) -> Callable[..., ServiceNowSim]:
    def make(counts: dict[str, int] | None = None, **kwargs: Any) -> ServiceNowSim:
        days = timedelta(days=kwargs.pop("days", 30))
        return snow_sims(PASSWORD, kwargs.pop("seed", 7), counts or {"incident": 300}, START, days, AFTER_DATA,
                         **kwargs)

    return make


class Harness:
    def __init__(self, tmp_path: Path, sim: ServiceNowSim, pipelines: dict[str, dict[str, Any]]) -> None:
        self.path = write_config(tmp_path, sim, pipelines)
        self.config: Config = load_config(self.path)
        self.store: Store = open_store(self.config.store)
        self.sim = sim

    def stored(self, table: str = "incident") -> dict[str, str]:
        """sys_id → sys_updated_on of every live stored record."""
        return {pk: rec["sys_updated_on"] for pk, rec, deleted in self.store.iter_records(f"snow/{table}")
                if not deleted}

    def deleted(self, table: str = "incident") -> set[str]:
        return {pk for pk, _, deleted in self.store.iter_records(f"snow/{table}") if deleted}

    def udc(self, *args: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, "COLUMNS": "160"}
        # (a session of its own: a crash kills the process group, the run and its store writer child together)
        return subprocess.Popen([sys.executable, "-m", "udc", *args, "--config", str(self.path)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def source_truth(sim: ServiceNowSim, table: str = "incident", start: str = "", end: str = "9999") -> dict[str, str]:
    """sys_id → sys_updated_on of every live source record updated in [start, end)."""
    return {r["sys_id"]: r["sys_updated_on"] for r in sim.records(table) if start <= r["sys_updated_on"] < end}
