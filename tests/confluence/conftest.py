"""Fixtures: Confluence simulators (Cloud and Server) on free ports whose v2 exchanges are checked against the
official spec on teardown."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from confluence_helpers import SimFactory, official_openapi

from udc.simulators.confluence import ConfluenceSim


@pytest.fixture
def make_sim() -> Iterator[SimFactory]:
    """Start simulators; on teardown every v2 exchange they served is checked against the official spec."""
    started: list[ConfluenceSim] = []

    def factory(deployment: str = "cloud", **kwargs: Any) -> ConfluenceSim:
        sim = ConfluenceSim(deployment=deployment, **kwargs)
        sim.record_responses = True
        sim.start()
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()
    openapi = official_openapi()
    for sim in started:
        for request, response in sim.exchanges:
            openapi.check_exchange(request, response)
