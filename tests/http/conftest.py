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
