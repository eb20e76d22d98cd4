"""The JSON API and /metrics of `udc serve` over a store filled by real syncs and a backfill from the ServiceNow
simulator, read through a read-only connection."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from stores import Backend
from sync.conftest import AFTER_DATA, START, Harness
from udc.cli import app
from udc.serve.app import create_app
from udc.serve.auth import Guard
from udc.serve.views import Views
from udc.store import open_reader
from udc.timeutil import snow_time

from .conftest import COUNTS, Filled, day


def test_pipelines_list_health_last_run_lag_and_the_records_per_table_the_store_holds(filled: Filled) -> None:
    client = filled.app(clock=lambda: AFTER_DATA + timedelta(hours=1))
    history, live = client.get("/api/pipelines").json()
    assert history["name"] == "history" and history["health"] == "ok" and history["mode"] == "historical"
    assert {t["table"]: (t["records"], t["deleted"]) for t in history["tables"]} == {
        "incident": (COUNTS["incident"], 0), "problem": (COUNTS["problem"], 0)}
    assert history["records"] == sum(COUNTS.values()) == len(filled.sim.records("incident")) + 60
    assert history["last_run"]["rows"] == sum(COUNTS.values()) and history["lag_seconds"] is None
    # live: its last cycle failed (the backfill that ran after it does not make it healthy)
    assert live["health"] == "failing" and live["last_run"]["mode"] == "backfill"
    lags = {t["table"]: t["lag_seconds"] for t in live["tables"]}
    assert lags == {"incident": 3300.0, "problem": 3600.0}  # problem's failed cycle did not move its cursor
    assert live["lag_seconds"] == 3600.0


def test_runs_page_newest_first_with_the_failed_cycle_s_error_and_its_fix(filled: Filled) -> None:
    client = filled.app()
    first = client.get("/api/runs", params={"limit": 2}).json()
    assert [r["id"] for r in first["runs"]] == [4, 3] and first["next_before"] == 3
    rest = client.get("/api/runs", params={"limit": 2, "before": first["next_before"]}).json()
    assert [r["id"] for r in rest["runs"]] == [2, 1] and rest["next_before"] == 1
    assert client.get("/api/runs", params={"limit": 2, "before": 1}).json() == {"runs": [], "next_before": None}
    failed = client.get("/api/runs/3").json()
    assert failed["status"] == "failed" and failed["pipeline"] == "live"
    assert failed["error"] == {"message": "snow: got an HTML page instead of JSON from /api/now/table/problem",
                               "fix": "the instance may be hibernating (wake it by signing in), a proxy may be "
                                      "answering, or the URL is not the instance's API URL"}
    assert failed["summary"]["http_statuses"] == {"200": failed["calls"]}
    history = client.get("/api/runs", params={"pipeline": "history"}).json()["runs"]
    assert [(r["id"], r["status"], r["rows"], r["error"]) for r in history] == [(1, "succeeded", 300, None)]


def test_a_backfill_shows_chunk_completion_rows_per_table_and_its_chunk_grid(filled: Filled) -> None:
    client = filled.app()
    listed = client.get("/api/backfills").json()["backfills"]
    assert [(b["id"], b["status"], b["chunks_done"], b["chunks_total"]) for b in listed] == [(1, "done", 6, 6)]
    item = client.get(f"/api/backfills/{filled.backfill}").json()
    start, end = snow_time(day(0)), snow_time(day(6))
    in_range = [r for r in filled.sim.records("incident") if start <= r["sys_updated_on"] < end]
    assert in_range and item["tables"] == {"incident": {"rows": len(in_range), "deleted": 0}}
    assert item["rows"] == len(in_range) and item["eta_seconds"] == 0.0 and item["chunks"] == {"done": 6}
    assert [c["seq"] for c in item["grid"]] == [1, 2, 3, 4, 5, 6] and {c["status"] for c in item["grid"]} == {"done"}
    for cell in item["grid"]:  # each cell's rows are the records of its own day
        start, end = cell["start"][:10], cell["end"][:10]
        assert cell["rows"] == sum(start <= r["sys_updated_on"][:10] < end for r in in_range)
    page = client.get(f"/api/backfills/{filled.backfill}", params={"first": 5, "limit": 1}).json()
    assert [c["seq"] for c in page["grid"]] == [5] and page["grid_next"] == 6


@pytest.mark.parametrize(("path", "message"), [
    ("/api/pipelines/nope", "there is no pipeline 'nope'"),
    ("/api/runs/999", "there is no run #999"),
    ("/api/backfills/42", "there is no backfill #42"),
    ("/api/runs?pipeline=nope", "there is no pipeline 'nope'"),
])
def test_unknown_ids_are_a_404_with_a_message_and_where_to_look(filled: Filled, path: str, message: str) -> None:
    answer = filled.app().get(path)
    assert answer.status_code == 404 and answer.json()["error"] == message and answer.json()["fix"]


def test_metrics_parse_and_count_what_the_runs_did(filled: Filled) -> None:
    client = filled.app(clock=lambda: AFTER_DATA + timedelta(hours=1))
    samples = [s for f in text_string_to_metric_families(client.get("/metrics").text) for s in f.samples]

    def value(name: str, **labels: str) -> float:
        found = [s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
        assert found, f"no sample {name} {labels}"
        return sum(found)

    runs = client.get("/api/runs").json()["runs"]
    live = [r for r in runs if r["pipeline"] == "live"]
    assert value("udc_records_synced_total", pipeline="history", table="incident") == COUNTS["incident"]
    assert value("udc_records_synced_total", pipeline="live", table="incident") == sum(
        r["tables"]["incident"] for r in live) == 27  # the backfill's rows; the cycles found nothing new
    assert value("udc_runs_total", pipeline="live", status="succeeded") == 2  # a cycle and the backfill
    assert value("udc_runs_total", pipeline="live", status="failed") == 1
    assert value("udc_http_requests_total") == sum(r["calls"] for r in runs)
    assert value("udc_http_requests_total", pipeline="live", connector="snow", status="200") == sum(
        r["calls"] for r in live)  # the HTML page came back as a 200
    assert value("udc_http_retries_total", pipeline="live", connector="snow") == 0
    assert value("udc_backfill_chunks", backfill="1", pipeline="live", state="done") == 6
    assert value("udc_records_stored", dataset="snow/incident", state="live") == COUNTS["incident"]
    assert value("udc_cursor_lag_seconds", pipeline="live", table="problem") == 3600.0
    assert value("udc_last_success_timestamp_seconds", pipeline="history") > 0
    assert value("udc_run_duration_seconds_count", pipeline="live") == 3


def test_the_reader_cannot_write_and_never_blocks_a_sync(filled: Filled) -> None:
    """SQLite: a read-only connection, a WAL read transaction beside the writer's commit. PostgreSQL: a read-only
    session, an MVCC snapshot (REPEATABLE READ) held beside the writer's commit."""
    reader = open_reader(filled.h.config.store)
    connection = reader.connection  # type: ignore[attr-defined]
    refused, begin = ((sqlite3.OperationalError, "BEGIN") if Backend.kind == "sqlite"
                      else (psycopg.errors.ReadOnlySqlTransaction, "BEGIN ISOLATION LEVEL REPEATABLE READ"))
    with pytest.raises(refused, match="read-?only"):
        connection.execute("DELETE FROM runs")
    connection.execute(begin)
    assert reader.runs(limit=1)[0]["id"] == 4  # a read transaction held open...
    summary = filled.h.sync("live", now=AFTER_DATA + timedelta(minutes=10))
    assert summary.status == "succeeded"  # ...and the writer commits beside it
    assert reader.runs(limit=1)[0]["id"] == 4  # unseen by the reader's snapshot until it ends
    connection.execute("COMMIT")
    assert reader.runs(limit=1)[0]["id"] == summary.run_id
    reader.close()


def test_metrics_fold_new_runs_at_the_next_scrape(filled: Filled) -> None:
    client = filled.app()

    def synced() -> float:
        return sum(s.value for f in text_string_to_metric_families(client.get("/metrics").text)
                   for s in f.samples if s.name == "udc_runs_total")

    assert synced() == 4
    filled.h.sync("live", now=AFTER_DATA + timedelta(minutes=10))
    assert synced() == 5
    assert synced() == 5  # a run is counted once


def test_the_last_udc_check_of_each_connector_is_served_without_its_secrets(filled: Filled) -> None:
    client = filled.app()
    assert client.get("/api/checks").json() == [{"connector": "snow", "at": None}]  # never checked
    secret = filled.h.path.parent / "snow.pw"
    password = secret.read_text()
    secret.write_text(password + "-rotated")  # the account's password changed at the source
    checked = CliRunner().invoke(app, ["check", "--connector", "snow", "--config", str(filled.h.path), "--json"])
    assert checked.exit_code == 1
    said = json.loads(checked.stdout)
    [report] = client.get("/api/checks").json()
    assert report.pop("at") and report == said and report["healthy"] is False
    failed = [f for f in report["findings"] if f["level"] == "fail"]
    assert failed and all(f["fix"] for f in failed)
    page = client.get("/pipelines/live").text
    assert failed[0]["title"] in page and str(escape(failed[0]["fix"])) in page
    stored = b"".join(path.read_bytes() for path in filled.h.path.parent.glob("udc.db*") if path.is_file())
    assert password.encode() not in stored and (password + "-rotated").encode() not in stored


def test_the_api_docs_are_served_from_the_package_not_a_cdn(filled: Filled) -> None:
    client = filled.app()
    docs = client.get("/docs").text
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs)
    assert "/static-offline-docs/swagger-ui-bundle.js" in assets and "/static-offline-docs/swagger-ui.css" in assets
    assert all(a.startswith("/") for a in assets), assets  # nothing from another host
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    spec = client.get("/openapi.json").json()
    assert {"/api/pipelines", "/api/pipelines/{name}", "/api/runs", "/api/runs/{run_id}", "/api/backfills",
            "/api/backfills/{backfill_id}", "/api/checks", "/metrics"} <= set(spec["paths"])
    assert "next_before" in spec["paths"]["/api/runs"]["get"]["parameters"][2]["description"]


def test_an_unknown_page_is_a_404_page_with_where_to_look(filled: Filled) -> None:
    answer = filled.app().get("/backfills/77")
    assert answer.status_code == 404 and "there is no backfill #77" in answer.text and "/api/backfills" in answer.text


def test_metrics_count_throttled_responses_retries_and_the_wait_they_cost(tmp_path: Path, snow_sims) -> None:
    """The source answers one 429 asking for a second's pause: the run records the 429 beside its 200s, one retry,
    and the second spent waiting for the rate budget; /metrics adds them up."""
    sim = snow_sims("serve-pw-2", 3, {"incident": 40}, START, timedelta(days=5), AFTER_DATA)
    h = Harness(tmp_path, sim, {"slow": {"mode": "historical", "max_retries": 2, "tables": ["incident"]}})
    sim.faults.paths, sim.faults.retry_after = ("/api/now/table/incident",), 1
    sim.faults.script(["429"])
    summary = h.sync("slow")
    assert summary.status == "succeeded" and summary.retries == 1
    assert summary.http_statuses == {"200": summary.calls - 1, "429": 1}
    assert summary.rate_wait_seconds >= 0.9  # Retry-After: 1, honoured through the connector's budget
    client = TestClient(create_app(Views(h.config, open_reader(h.config.store)), Guard(None)))
    samples = {(s.name, s.labels.get("status", "")): s.value
               for f in text_string_to_metric_families(client.get("/metrics").text) for s in f.samples
               if s.labels.get("pipeline") == "slow"}
    assert samples[("udc_http_requests_total", "429")] == 1
    assert samples[("udc_http_requests_total", "200")] == summary.calls - 1
    assert samples[("udc_http_retries_total", "")] == 1
    assert samples[("udc_rate_limit_wait_seconds_total", "")] == summary.rate_wait_seconds
