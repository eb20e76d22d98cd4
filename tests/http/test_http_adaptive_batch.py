"""The 502 case of the product doc: a page holding an oversized record fails at the gateway. The batch halves down
to the one record, which is stored without its large free-text fields — or quarantined by key when even that
fails — and the sync goes on; the batch grows back; the run summary and `udc status` list the record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from http_helpers import snow_yaml
from typer.testing import CliRunner

from stores import Backend
from udc.cli import app
from udc.config import load_config
from udc.store import Store, open_store
from udc.sync.engine import Engine, RunSummary


def sync(sim: Any, tmp_path: Path, tables: str = "[incident]", **pipeline: Any) -> tuple[RunSummary, Store]:
    path = tmp_path / "udc.yaml"
    path.write_text(snow_yaml(sim.url, str(tmp_path / "udc.db"), tables=tables, **pipeline))
    store = open_store(Backend.store_url(tmp_path / "udc.db"))
    return Engine(load_config(path), store).sync("p"), store


def stored(store: Store, table: str = "incident") -> dict[str, dict[str, Any]]:
    return {pk: record for pk, record, deleted in store.iter_records(f"snow/{table}") if not deleted}


def limits(sim: Any, table: str = "incident") -> list[int]:
    return [int(r.arg("sysparm_limit") or 0) for r in sim.table_requests if r.path.endswith(f"/{table}")]


def test_oversized_record_is_stored_without_its_free_text_and_listed(snow: Any, tmp_path: Path) -> None:
    records = snow.records("incident")
    big = [records[70]["sys_id"], records[200]["sys_id"]]
    for sys_id in big:
        snow.mark_oversized("incident", sys_id)
    summary, store = sync(snow, tmp_path, batch_size=64)
    assert summary.status == "succeeded"
    rows = stored(store)
    assert set(rows) == {r["sys_id"] for r in records}  # no record lost, none extra
    for sys_id in big:
        assert "work_notes" not in rows[sys_id] and rows[sys_id]["number"]
    assert all("work_notes" in rows[r["sys_id"]] for r in records if r["sys_id"] not in big)
    (result,) = [s for s in summary.streams if s.stream == "incident"]
    assert sorted(pk for pk, _ in result.quarantined) == sorted(big)
    assert all("stored without work_notes" in reason for _, reason in result.quarantined)
    assert sum(sys_id in w for w in summary.warnings for sys_id in big) == 2
    sent = limits(snow)
    assert 1 in sent and sent[0] == 64 and sent.count(64) >= 3  # down to one record, and back to full pages
    assert sorted(pk for _, pk, _ in store.quarantined("snow/")) == sorted(big)


def test_record_failing_even_without_omitted_fields_is_quarantined_by_key(snow: Any, tmp_path: Path) -> None:
    records = snow.records("incident")
    big = records[100]["sys_id"]
    snow.mark_oversized("incident", big)
    # the configured omit list does not name the culprit, so the slimmed fetch still fails
    summary, store = sync(snow, tmp_path, tables="[{name: incident, omit_on_oversize: [comments]}]",
                          batch_size=50)
    assert summary.status == "succeeded"
    rows = stored(store)
    assert set(rows) == {r["sys_id"] for r in records} - {big}
    ((pk, reason),) = summary.streams[0].quarantined
    assert pk == big and "quarantined" in reason and "comments" in reason
    assert store.quarantined("snow/") == [("snow/incident", big, reason)]


def test_run_summary_and_udc_status_list_quarantined_records(snow: Any, tmp_path: Path) -> None:
    big = snow.records("incident")[10]["sys_id"]
    snow.mark_oversized("incident", big)
    config = tmp_path / "udc.yaml"
    config.write_text(snow_yaml(snow.url, str(tmp_path / "udc.db"), tables="[incident]", batch_size=100))
    runner = CliRunner()
    result = runner.invoke(app, ["sync", "-p", "p", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert big in result.stdout and "work_notes" in result.stdout
    status = runner.invoke(app, ["status", "-c", str(config)])
    assert status.exit_code == 0 and "quarantined" in status.stdout and big in status.stdout


def test_maximum_execution_time_exceeded_halves_the_batch_and_loses_nothing(snow: Any, tmp_path: Path) -> None:
    snow.max_response_bytes, snow.oversize_error = 40_000, "transaction_cancelled"
    summary, store = sync(snow, tmp_path, batch_size=200)
    assert summary.status == "succeeded" and not summary.streams[0].quarantined
    assert set(stored(store)) == {r["sys_id"] for r in snow.records("incident")}
    sent = limits(snow)
    assert sent[0] == 200 and min(sent) < 200 and max(sent[1:]) <= 200


def test_response_size_cap_halves_the_batch(snow: Any, tmp_path: Path) -> None:
    summary, store = sync(snow, tmp_path, batch_size=200, max_response_mb=0.05)
    assert summary.status == "succeeded" and not summary.streams[0].quarantined
    assert set(stored(store)) == {r["sys_id"] for r in snow.records("incident")}
    assert min(limits(snow)) < 200
