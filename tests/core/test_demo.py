"""`udc demo` is the first thing a new user runs: it must work offline and say what happened."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml
from typer.testing import CliRunner

from udc.cli import app
from udc.store import SqliteStore


def test_demo_syncs_four_sources_and_shows_the_changes(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--workdir", str(tmp_path / "demo"), "--records", "300"])
    assert result.exit_code == 0, result.output
    for text in ("Historical syncs", "Next incremental cycles", "snow-live", "jira-live", "sf-live", "wiki-live",
                 "links between records", "udc export", "Ask the knowledge graph", "same CI db-checkout-01, ended 40 "
                 "min before", "Checkout failing: database db-checkout-01 out of tablespace"):
        assert text in result.output
    store = SqliteStore(tmp_path / "demo" / "udc.db")
    counts = store.dataset_counts()
    # 300 seeded − 1 deleted in its history + 2 of the planted outage + 8 opened − 5 deleted
    assert counts["snow/incident"] == (304, 6)
    assert "sys_audit_delete" not in result.output  # no warning that deletions may be invisible
    assert counts["jira/issues"][0] > 0 and counts["sf/Case"][0] > 0
    assert counts["wiki/pages"][0] > 0 and counts["wiki/pages"][1] == 1  # the trashed page is a tombstone
    assert all(run["status"] == "succeeded" for run in store.runs(limit=20))
    assert "demo-p@ss" not in (tmp_path / "demo" / "udc.yaml").read_text()  # the secret lives in a file
    schema = json.loads(CliRunner().invoke(app, ["config", "schema"]).output)
    jsonschema.validate(yaml.safe_load((tmp_path / "demo" / "udc.yaml").read_text()), schema)  # editors accept it


def test_demo_runs_again_in_the_same_folder_from_a_fresh_store(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    runs = []
    for _ in range(2):
        result = CliRunner().invoke(app, ["demo", "--workdir", str(workdir), "--records", "120"])
        assert result.exit_code == 0, result.output
        store = SqliteStore(workdir / "udc.db")
        runs.append(len(store.runs(limit=100)))
        assert store.dataset_counts()["snow/incident"] == (124, 6)  # the first run's records are gone, not kept
        store.close()
    assert (workdir / "udc.db.locks").is_dir()  # the store's lock folder is left alone
    assert runs[1] == runs[0] > 0
