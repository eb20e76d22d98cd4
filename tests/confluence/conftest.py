"""Fixtures: Confluence simulators (Cloud and Server) on free ports whose v2 exchanges are checked against the
official spec on teardown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from confluence_helpers import SimFactory, official_openapi

from openapi_check import checked_sims
from udc.simulators.confluence import ConfluenceSim


@pytest.fixture
def make_sim() -> Iterator[SimFactory]:
    """Start simulators; on teardown every v2 exchange they served is checked against the official spec."""
    yield from checked_sims(ConfluenceSim, official_openapi())
