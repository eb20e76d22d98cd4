"""The REST source through the `udc` command: every auth kind syncs (and the secret never reaches the store or the
output), `udc check` and `udc discover` answer from each table's first page, a shape that does not match the
declaration stops before anything is stored (exit 2; exit 1 naming a cursor value that does not parse), and a
`kill -9` of the real process mid-sync resumes to the exact source."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from rest_helpers import NOTES, SHAPES, rows, stored, write_config
from typer.testing import CliRunner

from udc.cli import app
from udc.simulators.base import Request
from udc.simulators.rest import AUTH_KINDS, RestSim
from udc.store import SqliteStore

SECRET = "k3y-w1th spaces&%+`\"é"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("auth,shape", [(kind, "offset") for kind in AUTH_KINDS]
                         + [("api_key_query", "link_header"), ("api_key_query", "next_url")])
def test_every_auth_kind_syncs_and_the_secret_stays_out(make_sim: Callable[..., RestSim], tmp_path: Path,
                                                        auth: str, shape: str) -> None:
    sim = make_sim(items=30, ties=3, auth=auth, secret=SECRET)
    table = SHAPES[shape]
    path = write_config(tmp_path, sim, {"p": {"mode": "historical", "batch_size": 7, "tables": [table]}})
    code, out = invoke("sync", "--pipeline", "p", "--config", str(path))
    assert code == 0, out
    store = SqliteStore(tmp_path / "udc.db")
    assert stored(store, table["name"]) == sim.truth()
    store.close()
    assert SECRET not in out and SECRET.encode() not in (tmp_path / "udc.db").read_bytes()
    assert {r.method for r in sim.requests if r.path != "/oauth/token"} == {"GET"}
    if auth == "oauth":
        assert sim.tokens_issued == 1


def test_wrong_credentials_fail_check_and_sync_naming_the_fix(make_sim: Callable[..., RestSim],
                                                              tmp_path: Path) -> None:
    sim = make_sim(items=5, auth="api_key_header", secret=SECRET)
    path = write_config(tmp_path, sim, {"p": {"tables": [SHAPES["offset"]]}},
                        auth={"type": "api_key", "header": "Authorization", "value": "Token token=wrong"})
    code, out = invoke("check", "--connector", "api", "--config", str(path))
    assert code == 1 and "401 Unauthorized" in out and "header Authorization" in out, out
    code, out = invoke("sync", "--pipeline", "p", "--config", str(path))
    assert code == 1 and "HTTP 401" in out, out


def test_check_and_discover_read_each_tables_first_page(make_sim: Callable[..., RestSim], tmp_path: Path) -> None:
    sim = make_sim(items=12, ties=2)
    path = write_config(tmp_path, sim, {"p": {"tables": [SHAPES["offset"], NOTES]}})
    code, out = invoke("check", "--connector", "api", "--config", str(path), "--json")
    assert code == 0, out
    findings = {f["title"]: f for f in json.loads(out)["findings"]}
    assert findings["table items"]["level"] == "ok"
    assert "cursor updated_at reads as 2025-01-01T00:00:00.000000Z" in findings["table items"]["detail"]
    code, out = invoke("discover", "--connector", "api", "--table", "items", "--config", str(path), "--json")
    assert code == 0, out
    assert json.loads(out) == {"items": {"id": "string", "updated_at": "string", "title": "string",
                                         "service.id": "string", "version": "integer"}}
    code, out = invoke("discover", "--connector", "api", "--table", "notes", "--config", str(path), "--json")
    assert json.loads(out) == {"notes": {"id": "string", "created_at": "string", "text": "string"}}
    code, out = invoke("discover", "--connector", "api", "--config", str(path))
    assert code == 0 and "items" in out and "/offset/items/{parent.id}/notes" in out, out


def test_an_empty_endpoint_is_a_permission_warning_in_check(make_sim: Callable[..., RestSim], tmp_path: Path) -> None:
    sim = make_sim(items=0)
    path = write_config(tmp_path, sim, {"p": {"tables": [SHAPES["offset"]]}})
    code, out = invoke("check", "--connector", "api", "--config", str(path), "--json")
    found = {f["title"]: f for f in json.loads(out)["findings"]}
    assert code == 0 and found["table items"]["level"] == "warn" and "0 records" in found["table items"]["detail"]


@pytest.mark.parametrize("change,phrase,exit_code", [
    ({"records": "incidents"}, "no list of records at 'incidents'", 2),
    ({"primary_key": "uuid"}, "no primary key field 'uuid'", 2),
    ({"cursor": {"field": "changed_at", "format": "iso8601"}}, "no cursor field 'changed_at'", 2),
    ({"cursor": {"field": "updated_at", "format": "epoch_ms"}}, "cursor updated_at = '2025-01-01T00:00:00Z'", 1),
    ({"cursor": {"field": "title", "format": "iso8601"}}, "cursor title = 'item ", 1),
])
def test_a_shape_unlike_the_declaration_stops_before_anything_is_stored(
        make_sim: Callable[..., RestSim], tmp_path: Path, change: dict[str, object], phrase: str,
        exit_code: int) -> None:
    sim = make_sim(items=10)
    path = write_config(tmp_path, sim, {"p": {"tables": [{**SHAPES["offset"], **change}]}})
    code, out = invoke("sync", "--pipeline", "p", "--config", str(path))
    assert code == exit_code and phrase in out and "fix:" in out, out
    assert "Traceback" not in out
    if (tmp_path / "udc.db").exists():
        store = SqliteStore(tmp_path / "udc.db")
        assert rows(store, "items") == (0, 0)
        store.close()


def test_kill_9_mid_sync_then_resume_ends_exact(make_sim: Callable[..., RestSim], tmp_path: Path) -> None:
    sim = make_sim(items=400, ties=6)
    path = write_config(tmp_path, sim, {"p": {"mode": "historical", "batch_size": 10, "tables": [SHAPES["offset"]]}})
    env = {**os.environ, "COLUMNS": "120"}
    kills = 0
    for at in (6, 9, 7):  # the Nth request from here: the real process dies while it waits for the answer
        proc = subprocess.Popen([sys.executable, "-m", "udc", "sync", "--pipeline", "p", "--config", str(path)],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)

        def kill(_: Request, p: subprocess.Popen[bytes] = proc) -> None:
            os.killpg(p.pid, signal.SIGKILL)  # the sync and its store writer child, as a crash takes both
            p.wait(timeout=30)

        sim.on_request(sim.data_requests + at, kill)
        proc.communicate(timeout=120)
        kills += proc.returncode == -signal.SIGKILL
    assert kills == 3
    store = SqliteStore(tmp_path / "udc.db")
    partial = rows(store, "items")[0]
    assert 0 < partial < 400
    before = sim.data_requests
    code, out = invoke("sync", "--pipeline", "p", "--config", str(path))
    assert code == 0, out
    assert stored(store, "items") == sim.truth()
    assert rows(store, "items") == (400, 400)
    # it resumed after the stored pages: its first item request starts past the beginning
    first = next(r for r in sim.requests[-(sim.data_requests - before):] if r.path == "/offset/items"
                 and r.arg("since"))
    assert first.arg("since") > "2025-01-01T00:00:00Z"
    store.close()


def test_the_documented_example_config_syncs_the_simulator(make_sim: Callable[..., RestSim], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    sim = make_sim(items=80, ties=4, auth="api_key_header", secret="s3cret-t0ken")
    example = (Path(__file__).resolve().parents[2] / "docs" / "examples" / "rest.yaml").read_text()
    (tmp_path / "udc.yaml").write_text(example.replace("http://127.0.0.1:8090", sim.url))
    monkeypatch.setenv("REST_TOKEN", "s3cret-t0ken")
    code, out = invoke("sync", "--pipeline", "rest-history", "--config", str(tmp_path / "udc.yaml"))
    assert code == 0, out
    store = SqliteStore(tmp_path / "rest-example.db")
    for table in ("items", "events", "issues"):
        assert rows(store, table, "sim") == (80, 80)
    assert rows(store, "notes", "sim") == (160, 160)
    store.close()


def test_config_schema_covers_the_rest_keys() -> None:
    code, out = invoke("config", "schema")
    assert code == 0
    defs = json.loads(out)["$defs"]
    assert {"offset", "page", "cursor", "next_url", "link_header", "none"} == {
        defs[name]["properties"]["type"]["const"] for name in
        ("OffsetPaginator", "PagePaginator", "CursorPaginator", "NextUrlPaginator", "LinkHeaderPaginator",
         "NoPaginator")}
    table = defs["RestTable"]["properties"]
    assert {"path", "params", "records", "primary_key", "cursor", "order", "window", "paginator", "parent",
            "links"} <= set(table)
    assert {"api_key", "none", "oauth_client_credentials"} <= {
        defs[name]["properties"]["type"]["const"] for name in ("ApiKeyAuth", "NoAuth", "RestClientCredentials")}


def test_a_refused_oauth_client_is_named_by_check_and_sync(make_sim: Callable[..., RestSim], tmp_path: Path) -> None:
    sim = make_sim(items=5, auth="oauth", secret=SECRET)
    (tmp_path / "wrong").write_text("not-the-secret")
    path = write_config(tmp_path, sim, {"p": {"tables": [SHAPES["offset"]]}},
                        auth={"type": "oauth_client_credentials", "token_url": f"{sim.url}/oauth/token",
                              "client_id": sim.client_id, "client_secret": f"file:{tmp_path / 'wrong'}"})
    code, out = invoke("check", "--connector", "api", "--config", str(path))
    assert code == 1 and "invalid_client" in out and "client_secret" in out, out
    code, out = invoke("sync", "--pipeline", "p", "--config", str(path))
    assert code == 1 and "OAuth token request" in out and "invalid_client" in out, out
    assert "not-the-secret" not in out


def test_kill_9_mid_child_sync_resumes_with_the_next_parent(make_sim: Callable[..., RestSim], tmp_path: Path) -> None:
    sim = make_sim(items=60, ties=3, notes=2)
    path = write_config(tmp_path, sim, {"p": {"mode": "historical", "batch_size": 10, "tables": [
        SHAPES["offset"], NOTES]}})
    proc = subprocess.Popen([sys.executable, "-m", "udc", "sync", "--pipeline", "p", "--config", str(path)],
                            env={**os.environ, "COLUMNS": "120"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    notes_asked = []

    def watch(request: Request) -> None:  # the 35th notes call: more than a parent page's worth are stored
        if request.path.endswith("/notes"):
            notes_asked.append(request.path)
            if len(notes_asked) == 35:
                os.killpg(proc.pid, signal.SIGKILL)  # (the writer child too)
                proc.wait(timeout=30)

    for n in range(sim.data_requests + 1, sim.data_requests + 200):
        sim.on_request(n, watch)
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    sim.hooks.clear()
    store = SqliteStore(tmp_path / "udc.db")
    assert 0 < rows(store, "notes")[0] < 120
    before = len(sim.requests)
    code, out = invoke("sync", "--pipeline", "p", "--config", str(path))
    assert code == 0, out
    assert rows(store, "notes") == (120, 120) and rows(store, "items") == (60, 60)
    again = [r.path for r in sim.requests[before:] if r.path.endswith("/notes")]
    assert len(again) < 60  # resumed after the stored parents' notes, not from the first parent
    store.close()
