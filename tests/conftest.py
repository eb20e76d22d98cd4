"""Fixtures shared by every suite."""

from __future__ import annotations

import http.server
import os
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

# `python -m udc` in subprocess tests runs this checkout too, not what an editable install elsewhere points at
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1] / "src"),
                                                         os.environ.get("PYTHONPATH")]))

from udc import secrets  # noqa: E402
from udc.simulators.servicenow import ServiceNowSim  # noqa: E402
from udc.store import SqliteStore  # noqa: E402


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--long", action="store_true", help="torture suites at full length (e.g. 200 kills, not 20)")


@pytest.fixture(autouse=True)
def _own_secrets() -> Iterator[None]:
    """Each test scrubs only the secrets it configured: one test's password `wrong` must not mask the word in the
    next test's output (a udc process scrubs only its own config's secrets)."""
    known = set(secrets._values)
    yield
    with secrets._lock:
        secrets._values.intersection_update(known)


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


@pytest.fixture
def self_signed(tmp_path: Path) -> Iterator[str]:
    """An https URL on localhost served with a fresh self-signed certificate (a TLS failure for any client)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    """An empty store in the test's directory (`udc.db`, where configs built by the suites point)."""
    db = SqliteStore(tmp_path / "udc.db")
    try:
        yield db
    finally:
        db.close()
