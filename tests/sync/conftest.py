"""Fixtures for end-to-end syncs: a ServiceNow simulator on a free port and configs pointing at it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from stores import Backend
from udc.config import Config, load_config
from udc.simulators.servicenow import ServiceNowSim
from udc.store import Store, open_store
from udc.sync.engine import Engine, RunSummary

START = datetime(2025, 1, 1, tzinfo=UTC)
AFTER_DATA = START + timedelta(days=200)  # the simulated data spans at most 180 days from START
PASSWORD = "pa$$ w0rd`&%+\"é"


@pytest.fixture
def make_sim(snow_sims: Callable[..., ServiceNowSim]) -> Callable[..., ServiceNowSim]:
    def make(counts: dict[str, int] | None = None, **kwargs: Any) -> ServiceNowSim:
        return snow_sims(PASSWORD, kwargs.pop("seed", 3), counts or {"incident": 400}, START, timedelta(days=180),
                         AFTER_DATA, **kwargs)

    return make


def write_config(tmp_path: Path, sim: ServiceNowSim, pipelines: dict[str, dict[str, Any]],
                 username: str = "svc_udc") -> Path:
    secret = tmp_path / "snow.pw"
    secret.write_text(sim.users.get(username, "wrong"))
    secret.chmod(0o600)  # as users are told to keep it: udc warns about it otherwise, in every test's output
    config = {
        "store": Backend.store_url(tmp_path / "udc.db"),
        "connectors": {"snow": {"type": "servicenow", "instance_url": sim.url,
                                "auth": {"type": "basic", "username": username, "password": f"file:{secret}"}}},
        "pipelines": {name: {"connector": "snow", **p} for name, p in pipelines.items()},
    }
    path = tmp_path / "udc.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


class Harness:
    def __init__(self, tmp_path: Path, sim: ServiceNowSim, pipelines: dict[str, dict[str, Any]],
                 username: str = "svc_udc") -> None:
        self.path = write_config(tmp_path, sim, pipelines, username)
        self.config: Config = load_config(self.path)
        self.store: Store = open_store(self.config.store)
        self.sim = sim

    def sync(self, pipeline: str, now: datetime | None = None) -> RunSummary:
        return Engine(self.config, self.store).sync(pipeline, now=now)

    def stored(self, table: str = "incident", include_deleted: bool = False) -> dict[str, dict[str, Any]]:
        return {pk: rec for pk, rec, deleted in self.store.iter_records(f"snow/{table}")
                if include_deleted or not deleted}


def source_truth(sim: ServiceNowSim, table: str = "incident") -> dict[str, str]:
    """sys_id → sys_updated_on of every live record at the source."""
    return {r["sys_id"]: r["sys_updated_on"] for r in sim.records(table)}


def stored_truth(h: Harness, table: str = "incident") -> dict[str, str]:
    return {pk: rec["sys_updated_on"] for pk, rec in h.stored(table).items()}
