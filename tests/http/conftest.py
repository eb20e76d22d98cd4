"""Fixtures for the HTTP layer: a tiny real server, and clients built from config models."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from http_helpers import TinySim

from udc.http.client import HttpClient


@pytest.fixture
def tiny() -> Iterator[TinySim]:
    sim = TinySim()
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def make_client() -> Iterator[Callable[..., HttpClient]]:
    clients: list[HttpClient] = []

    def factory(base_url: str, auth: Any = None, **kwargs: Any) -> HttpClient:
        kwargs.setdefault("backoff_base", 0.01)
        kwargs.setdefault("backoff_cap", 0.05)
        client = HttpClient(base_url, auth, **kwargs)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


@pytest.fixture
def snow_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from http_helpers import NASTY, NASTY_ID

    monkeypatch.setenv("SNOW_PASSWORD", NASTY)
    monkeypatch.setenv("SNOW_CLIENT_ID", NASTY_ID)
    monkeypatch.setenv("SNOW_CLIENT_SECRET", NASTY)


@pytest.fixture
def snow(snow_env: None) -> Iterator[Any]:
    """A small ServiceNow instance whose service account and OAuth client use hostile secrets."""
    from http_helpers import NASTY, NASTY_ID, SNOW_USER

    from udc.simulators.servicenow import ServiceNowSim

    sim = ServiceNowSim(seed=3, counts={"incident": 240, "problem": 40, "change_request": 30},
                        users={SNOW_USER: NASTY, "admin": "admin"}, oauth_clients={NASTY_ID: NASTY})
    sim.start()
    yield sim
    sim.stop()
