"""Fixtures: Jira simulators (Cloud and Data Center) on free ports whose v3 exchanges are checked against the
official spec on teardown, configs pointing at them, and a store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jira_helpers import ConfigFactory, SimFactory, config_for, official_openapi

from openapi_check import OpenApi, checked_sims
from udc.config import Config
from udc.simulators.jira import JiraSim


@pytest.fixture(scope="session")
def openapi() -> OpenApi:
    return official_openapi()


@pytest.fixture
def make_sim() -> Iterator[SimFactory]:
    """Start simulators; on teardown every v3 exchange they served is checked against the official spec (Data Center
    speaks v2, which has no spec here)."""
    yield from checked_sims(JiraSim, official_openapi(), covers=lambda sim: sim.deployment == "cloud")


@pytest.fixture
def cloud(make_sim: SimFactory) -> JiraSim:
    return make_sim("cloud")


@pytest.fixture
def dc(make_sim: SimFactory) -> JiraSim:
    return make_sim("data_center")


@pytest.fixture
def make_config(tmp_path: Path) -> ConfigFactory:
    """`make_config(sim, auth=None, **pipeline)`: connector `jira` on the simulator, pipeline `jira-p`."""

    def factory(sim: JiraSim, auth: dict[str, Any] | None = None, **pipeline: Any) -> Config:
        return config_for(sim, tmp_path, auth, **pipeline)

    return factory
