"""Invariants 7 and 8 proven on a full sync against the ServiceNow simulator: only GETs (plus token POSTs) reach
the source, and no secret value shows up in logs, console output, errors, state, the SQLite file (WAL included)
or exports."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from http_helpers import NASTY, NASTY_ID, SNOW_USER, TinySim, snow_yaml
from pydantic import SecretStr
from typer.testing import CliRunner

from stores import Backend
from udc.cli import app
from udc.config import BasicAuth, load_config
from udc.http.client import HttpClient, HttpError
from udc.simulators.base import Response
from udc.store import open_store
from udc.sync.engine import Engine


def write_config(tmp_path: Path, url: str, **kw: Any) -> Path:
    path = tmp_path / "udc.yaml"
    path.write_text(snow_yaml(url, str(tmp_path / "udc.db"), **kw))
    return path


def test_full_sync_sends_only_gets_and_token_posts(snow: Any, tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, snow.url, auth="oauth", batch_size=40,
                                      tables="[incident, problem, change_request]"))
    snow.on_request(5, lambda request: snow.expire_tokens())  # force a refresh mid-sync
    summary = Engine(config, open_store(Backend.store_url(tmp_path / "udc.db"))).sync("p")
    assert summary.status == "succeeded"
    methods = {(r.method, r.path if r.method != "GET" else "GET") for r in snow.requests}
    assert methods == {("GET", "GET"), ("POST", "/oauth_token.do")}
    grants = [r.form()["grant_type"] for r in snow.requests if r.method == "POST"]
    assert grants[0] == "password" and "refresh_token" in grants
    assert all(r.path.startswith("/api/now/table/") for r in snow.requests if r.method == "GET")


def _forms(value: str) -> set[str]:
    """A secret and the encodings it could leak in."""
    return {value, quote(value, safe=""), quote_plus(value), value.encode("unicode_escape").decode("ascii"),
            value.encode().decode("latin-1")}


def _secrets(sim: Any) -> set[str]:
    values = {NASTY, NASTY_ID, base64.b64encode(f"{SNOW_USER}:{NASTY}".encode()).decode()}
    values |= set(sim._tokens) | set(sim._refresh_tokens)  # tokens the instance issued are secrets too
    return {form for value in values for form in _forms(value)}


def _leaks(text: str | bytes, secrets: set[str]) -> list[str]:
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    return [s for s in secrets if s.encode() in data]


def test_secrets_never_leak(snow: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    config_file = write_config(tmp_path, snow.url, auth="oauth", batch_size=60)
    runner = CliRunner()
    snow.faults.script(["500", "429", "reset"])  # retries log their failures
    snow.faults.retry_after = 0
    snow.on_request(4, lambda request: snow.expire_tokens())
    outputs = [runner.invoke(app, ["sync", "-p", "p", "-c", str(config_file), "-v"])]
    assert outputs[0].exit_code == 0, outputs[0].output
    outputs.append(runner.invoke(app, ["sync", "-p", "p", "-c", str(config_file), "--json"]))
    outputs.append(runner.invoke(app, ["status", "-c", str(config_file), "--json"]))
    outputs.append(runner.invoke(app, ["status", "-c", str(config_file)]))
    outputs.append(runner.invoke(app, ["config", "validate", "-c", str(config_file)]))
    export = tmp_path / "incident.jsonl"
    outputs.append(runner.invoke(app, ["export", "-p", "p", "-t", "incident", "-o", str(export), "-c",
                                       str(config_file)]))
    outputs.append(runner.invoke(app, ["export", "-p", "p", "-t", "problem", "-f", "csv", "-c", str(config_file)]))
    # failures: the password is rotated at the source, then the OAuth client secret
    snow.users[SNOW_USER] = "rotated"
    snow.expire_tokens()
    snow._refresh_tokens.clear()
    outputs.append(runner.invoke(app, ["sync", "-p", "p", "-c", str(config_file)]))
    snow.oauth_clients[NASTY_ID] = "rotated too"
    outputs.append(runner.invoke(app, ["sync", "-p", "p", "-c", str(config_file), "--json"]))
    assert outputs[-1].exit_code != 0 and outputs[-2].exit_code != 0
    assert "OAuth" in outputs[-2].output + outputs[-1].output

    secrets = _secrets(snow)
    assert len(secrets) > 10
    config = load_config(config_file)
    store = open_store(Backend.store_url(tmp_path / "udc.db"))
    places: dict[str, str | bytes] = {
        "logs": caplog.text,
        "config repr": repr(config) + config.model_dump_json(),
        "state": repr(store.all_state("p")),
        "runs": repr(store.runs("p", limit=50)),
        "export": export.read_bytes(),
    }
    for i, result in enumerate(outputs):
        places[f"cli output {i}"] = result.stdout + result.stderr
    if Backend.kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            file = tmp_path / f"udc.db{suffix}"
            if file.exists():
                places[file.name] = file.read_bytes()
        assert (tmp_path / "udc.db-wal").exists()
    else:  # everything the store's schema holds
        places["store"] = Backend.dump(tmp_path / "udc.db")
    assert store.dataset_counts("snow/")["snow/incident"][0] == 240
    found = {where: _leaks(text, secrets) for where, text in places.items()}
    assert {where: leaked for where, leaked in found.items() if leaked} == {}


def test_errors_scrub_secrets_the_source_echoes(tiny: TinySim) -> None:
    tiny.script.append(Response.json({"error": {"message": f"bad password {NASTY}", "detail": quote_plus(NASTY)}},
                                     400))
    client = HttpClient(tiny.url, BasicAuth(type="basic", username="svc", password=SecretStr(NASTY)))
    with pytest.raises(HttpError) as caught:
        client.get("/api/data", {"q": "x"})
    client.close()
    text = str(caught.value) + caught.value.body + repr(caught.value.args)
    assert "bad password ********" in caught.value.message
    assert not _leaks(text, {form for form in _forms(NASTY)})
