"""Fixtures for `udc serve`: a store filled by real syncs and a backfill from the ServiceNow simulator, and the app
over it (read-only), with or without a token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sync.conftest import AFTER_DATA, START, Harness
from udc.serve.app import create_app
from udc.serve.auth import Guard
from udc.serve.views import Views
from udc.simulators.servicenow import ServiceNowSim
from udc.store import open_reader
from udc.sync.backfill import BackfillRunner, create_backfill

TOKEN = "t0ken-for-the-serve-tests-Zq9"
COUNTS = {"incident": 240, "problem": 60}


def day(n: int) -> datetime:
    return START + timedelta(days=n)


class Filled:
    """Runs of three kinds in one store: a historical sync, two incremental cycles (the second after changes at the
    source), a failed cycle (the source answers 500) and a finished backfill of six days."""

    def __init__(self, tmp_path: Path, sim: ServiceNowSim) -> None:
        self.sim = sim
        self.h = Harness(tmp_path, sim, {
            "history": {"mode": "historical", "tables": ["incident", "problem"]},
            "live": {"mode": "incremental", "lag": "0s", "max_retries": 0, "tables": ["incident", "problem"]},
        })
        self.store = self.h.store
        self.summaries = [self.h.sync("history"), self.h.sync("live", now=AFTER_DATA)]
        sim.faults.paths = ("/api/now/table/problem",)
        sim.faults.script(["html200"])  # an HTML page instead of JSON: a failure with a fix
        self.summaries.append(self.h.sync("live", now=AFTER_DATA + timedelta(minutes=5)))
        sim.faults.clear()
        self.backfill = create_backfill(self.h.config, self.store, "live", day(0), day(6), tables=["incident"],
                                        parallel=2)
        assert BackfillRunner(self.h.config, self.store, self.backfill).run().status == "done"

    def app(self, token: str | None = None, clock: Callable[[], datetime] = lambda: AFTER_DATA) -> TestClient:
        reader = open_reader(self.h.config.store)
        return TestClient(create_app(Views(self.h.config, reader, clock), Guard(token)))


@pytest.fixture
def filled(tmp_path: Path, snow_sims: Callable[..., ServiceNowSim]) -> Iterator[Filled]:
    sim = snow_sims("serve-pw-1", 11, COUNTS, START, timedelta(days=30), AFTER_DATA)
    yield Filled(tmp_path, sim)
