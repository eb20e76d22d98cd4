"""Who may read the dashboard: the bearer token for the API and /metrics, the login form's HttpOnly cookie for the
pages; `udc serve` refuses a non-loopback address without a token, a short token and a port in use (exit 2), and
never prints the token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from stores import Backend
from udc.cli import app
from udc.config import load_config
from udc.store import open_store, store_exists
from udc.sync.engine import Engine

from .conftest import COUNTS, TOKEN, Filled


def test_the_api_and_metrics_take_the_bearer_token_and_nothing_else(filled: Filled) -> None:
    client = filled.app(token=TOKEN)
    for path in ("/api/pipelines", "/api/runs/1", "/metrics", "/openapi.json", "/docs"):
        refused = client.get(path)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer", path
        assert refused.json()["error"] == "a valid token is needed"
        wrong = client.get(path, headers={"Authorization": f"Bearer {TOKEN}x"})
        assert wrong.status_code == 401, path
        assert client.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200, path
    assert client.get("/healthz").status_code == 200  # for load balancers: says nothing of the store
    headers = client.get("/api/pipelines", headers={"Authorization": f"Bearer {TOKEN}"}).headers
    assert (headers["x-frame-options"], headers["x-content-type-options"], headers["cache-control"]) == (
        "DENY", "nosniff", "no-store")


def test_pages_send_to_the_login_form_which_sets_an_http_only_cookie(filled: Filled) -> None:
    client = filled.app(token=TOKEN)
    first = client.get("/pipelines/live", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login?next=/pipelines/live"
    wrong = client.post("/login", data={"token": "not-the-token-at-all", "next": "/pipelines/live"},
                        follow_redirects=False)
    assert wrong.status_code == 401 and "not the token" in wrong.text and "set-cookie" not in wrong.headers
    signed = client.post("/login", data={"token": TOKEN, "next": "/pipelines/live"}, follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/pipelines/live"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and TOKEN not in cookie
    page = client.get("/pipelines/live")  # the client keeps the cookie
    assert page.status_code == 200 and "Records per run" in page.text
    assert client.get("/api/pipelines").status_code == 200  # the session reads the API too (the /docs page does)
    client.post("/logout")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_after_login_only_a_path_on_this_server_is_followed(filled: Filled) -> None:
    client = filled.app(token=TOKEN)
    for target in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        answer = client.post("/login", data={"token": TOKEN, "next": target}, follow_redirects=False)
        assert answer.headers["location"] == "/", target


def test_without_a_token_loopback_needs_no_login(filled: Filled) -> None:
    client = filled.app()
    assert client.get("/").status_code == 200 and client.get("/api/pipelines").status_code == 200


@pytest.mark.parametrize(("args", "env", "said"), [
    (["--host", "0.0.0.0"], {}, "refusing to serve on 0.0.0.0 without a token"),
    (["--host", "192.0.2.10"], {}, "refusing to serve on 192.0.2.10 without a token"),
    ([], {"UDC_SERVE_TOKEN": "short"}, "UDC_SERVE_TOKEN is 5 characters long; it needs 16 or more"),
])
def test_serve_refuses_an_unsafe_binding_with_exit_2(filled: Filled, args: list[str], env: dict[str, str],
                                                     said: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UDC_SERVE_TOKEN", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["serve", "--config", str(filled.h.path), *args])
    assert result.exit_code == 2 and said in result.output and "fix:" in result.output


def test_serve_refuses_a_port_in_use_naming_it(filled: Filled) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        result = CliRunner().invoke(app, ["serve", "--config", str(filled.h.path), "--port", str(port)])
    finally:
        taken.close()
    assert result.exit_code == 2 and f"port {port} on 127.0.0.1 is in use" in result.output


def test_serve_before_any_sync_answers_503_with_the_fix_then_serves_the_store_a_sync_makes(tmp_path: Path,
                                                                                         filled: Filled) -> None:
    """Compose starts `udc serve` beside the scheduler: before the first sync it waits (exiting made it restart in a
    loop), answers 503 with the fix, creates nothing, and serves the store once a sync made it, in the same process."""
    url = Backend.store_url(tmp_path / "nothing-yet.db")
    config = tmp_path / "later.yaml"
    config.write_text(yaml.safe_dump({**yaml.safe_load(filled.h.path.read_text()), "store": url}, sort_keys=False))
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "udc", "serve", "--config", str(config), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/healthz")
        health = httpx.get(f"{base}/healthz")
        assert health.status_code == 503 and "nothing has been synced" in health.json()["status"]
        api = httpx.get(f"{base}/api/pipelines")
        assert api.status_code == 503 and "nothing has been synced" in api.json()["error"]
        assert "udc sync --pipeline P" in api.json()["fix"]
        page = httpx.get(f"{base}/pipelines/history")
        assert page.status_code == 503 and "nothing has been synced" in page.text
        assert httpx.get(f"{base}/metrics").status_code == 503
        assert not store_exists(url)  # a reader never creates a store
        store = open_store(url)
        assert Engine(load_config(config), store).sync("history").status == "succeeded"
        store.close()
        assert [p["records"] for p in httpx.get(f"{base}/api/pipelines").json()] == [sum(COUNTS.values())] * 2
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        assert proc.poll() is None  # the same server, never restarted
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and b"nothing has been synced" in err


def test_the_token_is_never_printed_by_the_server(filled: Filled) -> None:
    """A real `udc serve` on all interfaces with a token: requests with it, without it and with a wrong one, and
    neither its output nor its errors hold the token."""
    port = _free_port()
    env = {**os.environ, "UDC_SERVE_TOKEN": TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "udc", "serve", "--config", str(filled.h.path), "--host",
                             "0.0.0.0", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/healthz")
        assert httpx.get(f"{base}/api/pipelines", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert httpx.get(f"{base}/api/pipelines", headers={"Authorization": f"Bearer {TOKEN}!"}).status_code == 401
        assert httpx.post(f"{base}/login", data={"token": TOKEN[:-1]}).status_code == 401
        assert httpx.get(f"{base}/api/runs/77", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert f"udc dashboard on http://0.0.0.0:{port}/".encode() in err
    assert TOKEN[:12].encode() not in out + err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(url)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
