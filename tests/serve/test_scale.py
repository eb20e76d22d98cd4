"""The dashboard over a long history — 10,000 runs and 100,000 chunks (100 backfills of 1,000 daily chunks) — makes
exactly as many queries per page as over a short one, and every query finds its rows through an index (EXPLAIN
QUERY PLAN), never by reading a whole table of runs, chunks or state."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from udc.config import load_config
from udc.serve.app import create_app
from udc.serve.auth import Guard
from udc.serve.views import Views
from udc.store import SqliteStore, open_reader
from udc.store.types import Statement
from udc.timeutil import utcnow

GROWING = "(runs|chunks|state|backfills|redaction_counts|records)"  # tables that grow with the history
PIPELINES = ("alpha", "beta", "gamma", "delta")
PAGES = ("/", "/pipelines/alpha", "/pipelines/alpha?before=50", "/runs/7", "/backfills/3", "/backfills/3?first=900",
         "/api/pipelines", "/api/pipelines/beta", "/api/runs?limit=100", "/api/runs?pipeline=gamma&before=60",
         "/api/backfills", "/api/backfills/2", "/metrics")


def build(tmp_path: Path, runs: int, backfills: int, chunks: int) -> Path:
    """A store with `runs` finished runs spread over four pipelines (a tenth failed, with an error and fix) and
    `backfills` backfills of `chunks` daily chunks each, each chunk's state committed per table."""
    config = tmp_path / "udc.yaml"
    config.write_text("store: sqlite:///udc.db\nconnectors:\n  snow: {type: servicenow, instance_url: "
                      "https://x.service-now.com, auth: {type: basic, username: u, password: env:HOME}}\n"
                      "pipelines:\n" + "".join(f"  {p}: {{connector: snow, mode: incremental, tables: [incident, "
                                               "problem]}\n" for p in PIPELINES))
    store = SqliteStore(tmp_path / "udc.db", write_process=False)
    now = utcnow()
    summary = {"streams": [{"stream": "incident", "rows": 40}, {"stream": "problem", "rows": 2}], "calls": 5,
               "retries": 0, "seconds": 1.5, "http_statuses": {"200": 5}, "rate_wait_seconds": 0.0, "warnings": []}
    failed = {**summary, "warnings": ["snow: HTTP 401 from /api/now/table/incident\n  fix: check the password"]}
    started = [now - timedelta(minutes=runs - i) for i in range(runs)]
    run_rows = [(PIPELINES[i % 4], "incremental" if i % 50 else "backfill", at.isoformat(),
                 (at + timedelta(seconds=2)).isoformat(), "failed" if i % 10 == 3 else "succeeded",
                 orjson.dumps(failed if i % 10 == 3 else summary).decode()) for i, at in enumerate(started)]
    statements = [Statement("INSERT INTO runs (pipeline, mode, started_at, finished_at, status, summary) "
                            "VALUES (?, ?, ?, ?, ?, ?)", run_rows, many=True)]
    for b in range(1, backfills + 1):
        statements.append(Statement(
            "INSERT INTO backfills (id, pipeline, kind, tables, range_start, range_end, chunk_seconds, parallel, "
            "max_attempts, status, active_seconds, created_at) VALUES (?, ?, 'backfill', '[\"incident\"]', ?, ?, "
            "86400, 4, 3, ?, 3600, ?)", (b, PIPELINES[b % 4], "2020-01-01T00:00:00.000000Z",
                                          "2022-09-27T00:00:00.000000Z", "running" if b == 3 else "done",
                                          now.isoformat())))
        chunk_rows = []
        state_rows = []
        for seq in range(1, chunks + 1):
            status = "done" if b != 3 or seq > chunks // 2 else ("failed" if seq % 97 == 0 else "pending")
            errors = '[{"attempt": 3, "error": "incident: snow: HTTP 502"}]' if status == "failed" else "[]"
            chunk_rows.append((b, seq, f"day {seq}", f"day {seq + 1}", status, errors))
            state_rows.append((f"backfill:{b}", f"{seq}:incident", '{"rows": 12, "deleted": 1, "pages": 1}',
                               now.isoformat()))
        statements.append(Statement("INSERT INTO chunks (backfill, seq, chunk_start, chunk_end, status, rows, errors) "
                                    "VALUES (?, ?, ?, ?, ?, '{\"incident\": {\"rows\": 12, \"deleted\": 1}}', ?)",
                                    chunk_rows, many=True))
        statements.append(Statement("INSERT INTO state VALUES (?, ?, ?, ?)", state_rows, many=True))
    statements.append(Statement("ANALYZE", ()))
    store.run_statements(statements)
    store.close()
    return config


def queries_per_page(config: Path) -> tuple[dict[str, int], list[str]]:
    cfg = load_config(config, secrets_for=())
    reader = open_reader(cfg.store)
    client = TestClient(create_app(Views(cfg, reader), Guard(None)))
    client.get("/metrics")  # the first scrape folds the history once; later ones read only newer runs
    seen: list[str] = []
    reader.connection.set_trace_callback(seen.append)  # type: ignore[attr-defined]
    counts = {}
    for page in PAGES:
        before = len(seen)
        answer = client.get(page)
        assert answer.status_code == 200, page
        counts[page] = len(seen) - before
    reader.close()
    return counts, seen


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {"short": build(tmp_path_factory.mktemp("short"), runs=40, backfills=4, chunks=10),
            "long": build(tmp_path_factory.mktemp("long"), runs=10_000, backfills=100, chunks=1_000)}


def test_pages_make_as_many_queries_over_10k_runs_and_100k_chunks_as_over_a_few(stores: dict[str, Path]) -> None:
    short, _ = queries_per_page(stores["short"])
    long, _ = queries_per_page(stores["long"])
    assert long == short
    assert max(long.values()) <= 10  # a page of backfills: one query for their chunks' live leases (any host's)
    assert long["/"] == 8 and long["/metrics"] == 7


def test_every_query_reads_through_an_index(stores: dict[str, Path]) -> None:
    _, statements = queries_per_page(stores["long"])
    reader = open_reader(load_config(stores["long"], secrets_for=()).store)
    plans: dict[str, list[str]] = {}
    for sql in set(statements):
        if sql.startswith("SELECT"):
            plans[sql] = [row[-1] for row in reader.connection.execute(f"EXPLAIN QUERY PLAN {sql}")]  # type: ignore[attr-defined]
    # a table walked in rowid order, newest first, stops at its LIMIT: "SCAN runs" with no sort, and no other scan
    walked = re.compile(r"ORDER BY id DESC LIMIT \d+$")
    whole = {sql: plan for sql, plan in plans.items()
             if any(re.match(rf"SCAN {GROWING}\b(?!.*USING)", step) for step in plan)
             and not (walked.search(sql) and len(plan) == 1)
             or any("TEMP B-TREE" in step for step in plan)}
    assert whole == {}, "\n".join(f"{plan}: {sql[-160:]}" for sql, plan in whole.items())
    joined = "\n".join(step for plan in plans.values() for step in plan)
    for index in ("runs_by_mode", "runs_by_status", "runs_by_pipeline", "chunks_by_status", "PRIMARY KEY"):
        assert index in joined, index
