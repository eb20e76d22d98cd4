"""Fixtures shared by every suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from udc.simulators.servicenow import ServiceNowSim


@pytest.fixture
def snow_sims() -> Iterator[Callable[..., ServiceNowSim]]:
    """Start ServiceNow simulators for one account (`svc_udc`) whose clock stands after their data; all stop at
    teardown."""
    sims: list[ServiceNowSim] = []

    def start(password: str, seed: int, counts: dict[str, int], start: datetime, span: timedelta, clock: datetime,
              **kwargs: Any) -> ServiceNowSim:
        kwargs.setdefault("users", {"svc_udc": password})
        sim = ServiceNowSim(seed=seed, counts=counts, start=start, span=span, **kwargs)
        sim.clock = clock
        sims.append(sim.start())
        return sim

    yield start
    for sim in sims:
        sim.stop()
