"""Fixtures: a seeded Salesforce simulator on a free port, configs pointing at it, and a store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stores import Backend
from udc.config import Config, parse_config
from udc.simulators.salesforce import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SalesforceSim

ConfigFactory = Callable[..., Config]


@pytest.fixture
def sim() -> Iterator[SalesforceSim]:
    server = SalesforceSim()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SF_CLIENT_ID", DEFAULT_CLIENT_ID)
    monkeypatch.setenv("SF_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)


@pytest.fixture
def make_config(sim: SalesforceSim, tmp_path: Path) -> ConfigFactory:
    """A config with connector `sf` on the simulator and pipeline `sf-p`; keyword arguments override the pipeline."""

    def factory(instance_url: str | None = None, auth: dict[str, Any] | None = None, connector: dict[str, Any] | None
                = None, **pipeline: Any) -> Config:
        spec: dict[str, Any] = {"connector": "sf", "mode": "historical", "rate_limit": 10_000,
                                "objects": [{"name": "Case"}]}
        spec.update(pipeline)
        return parse_config({
            "store": Backend.store_url(tmp_path / "udc.db"),
            "connectors": {"sf": {
                "type": "salesforce", "instance_url": instance_url or sim.url,
                "auth": auth or {"type": "oauth_client_credentials", "client_id": "env:SF_CLIENT_ID",
                                 "client_secret": "env:SF_CLIENT_SECRET"},
                **(connector or {}),
            }},
            "pipelines": {"sf-p": spec},
        })

    return factory
