"""`udc export` through the CLI: what a table the pipeline syncs but has not stored yet exports as, what an unknown
table says, and that bare tombstones carry the source's own key field."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import orjson
from typer.testing import CliRunner

from udc.cli import app

from .conftest import AFTER_DATA, Harness, source_truth


def export(h: Harness, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["export", "--config", str(h.path), *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_configured_table_with_nothing_stored_yet_exports_empty(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 30, "problem": 5})
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "lag": "0s", "tables": [
        "incident", {"name": "problem", "fields": ["number", "short_description"]}]}})
    for minutes in range(0, 12, 2):  # six cycles that find nothing new: the store has no records yet
        assert h.sync("live", now=AFTER_DATA + timedelta(minutes=minutes)).status == "succeeded"
    assert h.store.dataset_counts() == {}
    assert export(h, "--pipeline", "live", "--table", "incident") == (0, "", "")
    code, text, _ = export(h, "--pipeline", "live", "--table", "incident", "--format", "csv")
    assert (code, text.splitlines()) == (0, ["sys_id,_deleted"])
    code, text, _ = export(h, "--pipeline", "live", "--table", "problem", "--format", "csv")
    assert (code, text.splitlines()) == (0, ["sys_id,number,short_description,_deleted"])


def test_an_unknown_table_is_refused_with_the_tables_it_could_be(tmp_path: Path, make_sim) -> None:
    h = Harness(tmp_path, make_sim({"incident": 10}), {"seed": {"tables": ["incident"]}})
    code, text, error = export(h, "--pipeline", "seed", "--table", "incidnet")
    assert code == 2 and text == ""
    assert "has no table 'incidnet'" in error and "incident" in error.split("fix:")[1]


def test_a_tombstone_for_a_record_never_stored_carries_the_sources_key_field(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 40})
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "lag": "0s", "tables": ["incident"]}})
    h.sync("live", now=AFTER_DATA)
    stored, never = sorted(source_truth(sim))[:2]
    sim.update("incident", stored, {"short_description": "seen before it goes"}, at=AFTER_DATA + timedelta(seconds=2))
    h.sync("live", now=AFTER_DATA + timedelta(minutes=1))
    for sys_id in (stored, never):
        sim.delete("incident", sys_id, at=AFTER_DATA + timedelta(minutes=1, seconds=10))
    h.sync("live", now=AFTER_DATA + timedelta(minutes=3))

    code, text, _ = export(h, "--pipeline", "live", "--table", "incident")
    rows = [orjson.loads(line) for line in text.splitlines()]
    assert code == 0 and len(rows) == 2 and all(row["_deleted"] for row in rows)
    assert {row["sys_id"] for row in rows} == {stored, never}
    assert not any("_pk" in row for row in rows)
    code, text, _ = export(h, "--pipeline", "live", "--table", "incident", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(text)))
    assert {row["sys_id"] for row in table} == {stored, never}


def test_an_export_into_a_missing_folder_is_refused_and_writes_nothing(tmp_path: Path, make_sim) -> None:
    h = Harness(tmp_path, make_sim({"incident": 10}), {"seed": {"tables": ["incident"]}})
    h.sync("seed")
    code, _, error = export(h, "--pipeline", "seed", "--table", "incident", "--out", str(tmp_path / "no" / "x.jsonl"))
    assert code == 2 and "does not exist" in " ".join(error.split())
    code, _, _ = export(h, "--pipeline", "seed", "--table", "incident", "--out", str(tmp_path / "x.jsonl"))
    assert code == 0 and len((tmp_path / "x.jsonl").read_text().splitlines()) == 10
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []
