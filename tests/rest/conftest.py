"""Fixtures: generic REST simulators on free ports, stopped at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_helpers import START

from udc.simulators.rest import RestSim


@pytest.fixture
def make_sim() -> Iterator[Callable[..., RestSim]]:
    sims: list[RestSim] = []

    def make(**kwargs: Any) -> RestSim:
        kwargs.setdefault("start", START)
        sim = RestSim(**kwargs).start()
        assert isinstance(sim, RestSim)
        sims.append(sim)
        return sim

    yield make
    for sim in sims:
        sim.stop()
