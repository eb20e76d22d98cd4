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

from stores import KINDS, SERVER, Backend, drop_schema, new_schema, unreachable, url_of  # noqa: E402
from udc import secrets  # noqa: E402
from udc.simulators.servicenow import ServiceNowSim  # noqa: E402
from udc.store import Store, open_store  # noqa: E402


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--store", choices=KINDS, default=os.environ.get("UDC_TEST_STORE", "sqlite"),
                     help="the store the suite runs against (tests marked both_stores run against both)")
    parser.addoption("--long", action="store_true", help="torture suites at full length (e.g. 200 kills, not 20)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_stores: runs against SQLite and PostgreSQL, whatever --store says")
    config.addinivalue_line("markers", "sqlite_only: about SQLite's own files or writer process")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("both_stores"):
        metafunc.parametrize("store_backend", KINDS, indirect=True)


@pytest.fixture(autouse=True)
def store_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """The store this test runs against; for PostgreSQL a schema of its own, dropped afterwards."""
    kind = getattr(request, "param", None) or request.config.getoption("--store")
    if kind == "postgresql" and request.node.get_closest_marker("sqlite_only"):
        pytest.skip("about SQLite's own files or writer process")
    if kind == "sqlite":
        Backend.kind = "sqlite"
        yield kind
        return
    if why := unreachable():
        pytest.skip(f"no PostgreSQL server answers at {SERVER} ({why}); start one, or set UDC_TEST_PG")
    Backend.kind, Backend.schemas = "postgresql", {}
    try:
        yield kind
    finally:
        for schema in Backend.schemas.values():
            drop_schema(schema)
        Backend.kind, Backend.schemas = "sqlite", {}


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL store's URL in a schema of its own (dropped afterwards), for tests about PostgreSQL alone."""
    if why := unreachable():
        pytest.skip(f"no PostgreSQL server answers at {SERVER} ({why}); start one, or set UDC_TEST_PG")
    schema = new_schema()
    yield url_of(schema)
    drop_schema(schema)


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
def store(tmp_path: Path, store_backend: str) -> Iterator[Store]:
    """An empty store: `udc.db` in the test's directory (where configs built by the suites point), or the test's
    PostgreSQL schema."""
    db = open_store(Backend.store_url(tmp_path / "udc.db"))
    try:
        yield db
    finally:
        db.close()
