"""Fixtures: a ServiceNow simulator whose service account has a password with special characters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from check_helpers import CLIENT_ID, CLIENT_SECRET, SECRET

from udc.simulators.servicenow import ServiceNowSim


@pytest.fixture
def snow(monkeypatch: pytest.MonkeyPatch) -> Iterator[ServiceNowSim]:
    monkeypatch.setenv("SNOW_PASSWORD", SECRET)
    monkeypatch.setenv("SNOW_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SNOW_CLIENT_SECRET", CLIENT_SECRET)
    sim = ServiceNowSim(seed=4, counts={"incident": 120, "problem": 30, "change_request": 20},
                        users={"svc_udc": SECRET}, oauth_clients={CLIENT_ID: CLIENT_SECRET})
    sim.start()
    yield sim
    sim.stop()
