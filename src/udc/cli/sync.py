"""`udc sync`, `udc status` and `udc export`: run a pipeline, see where it stands, take its records out."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from udc.cli.common import STOPPED, ConfigOpt, err, existing_store, out, print_json, stoppable
from udc.config import DEFAULT_CONFIG, Config, load_config
from udc.console import RunProgress, print_summary, setup_logging
from udc.errors import ConfigError
from udc.sources import plugin
from udc.sources.keyset import dataset_of
from udc.store import Store, discard_new_store, exposure_warnings, open_store, store_exists
from udc.sync.backfill import list_backfills
from udc.sync.engine import Engine


def sync(pipeline: Annotated[str, typer.Option("--pipeline", "-p", help="Pipeline name.")],
         config: ConfigOpt = Path(DEFAULT_CONFIG),
         json_out: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")] = False,
         confirm_deletes: Annotated[bool, typer.Option(
             "--confirm-deletes", help="Let a Jira deletion census that the false-delete guard refused go ahead.")
         ] = False,
         verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """Run a historical sync, or one incremental cycle, of a pipeline (exit 130 when stopped by Ctrl-C or SIGTERM)."""
    setup_logging(verbose)
    cfg = load_config(config, [pipeline])
    fresh = not store_exists(cfg.store, cfg.store_secret())
    store = open_store(cfg.store, cfg.store_secret())
    try:
        with stoppable() as stop, RunProgress(pipeline) as progress:
            summary = Engine(cfg, store, stop=stop, on_progress=progress.update,
                             confirm_deletes=confirm_deletes).sync(pipeline)
    except ConfigError:  # the source refused the pipeline (a table or field it does not have)
        if fresh:
            discard_new_store(cfg.store, store)
        raise
    if json_out:
        print_json(summary.to_json())
    else:
        print_summary(summary, out)
    if summary.status == "failed":
        raise typer.Exit(1)
    if stop and summary.status == "stopped":  # a stop that came after the last page leaves a finished run: exit 0
        err.print(f"stopped: the next `udc sync --pipeline {pipeline}` resumes after the last stored page",
                  highlight=False)
        raise typer.Exit(STOPPED)


def status(config: ConfigOpt = Path(DEFAULT_CONFIG),
           pipeline: Annotated[str | None, typer.Option("--pipeline", "-p")] = None,
           json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Each pipeline's last runs, cursors, rows per table and quarantined records."""
    cfg = load_config(config, secrets_for=())
    if pipeline:
        cfg.pipeline(pipeline)  # an unknown name is refused with the known ones
    names = [pipeline] if pipeline else list(cfg.pipelines)
    store = existing_store(cfg)
    for warning in exposure_warnings(cfg.store):  # on stderr, so --json stays one document
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    report = {name: pipeline_status(cfg, store, name) for name in names}
    if json_out:
        print_json(report)
        return
    for name, item in report.items():
        out.print(f"[bold]{name}[/] ({item['connector']}, {item['mode']})")
        for run in item["runs"]:
            rows = sum(s["rows"] for s in (run["summary"] or {}).get("streams", []))
            out.print(f"  run #{run['id']} {run['status']:<9} {run['started_at'][:19]}  {rows:,} rows")
        for warning in ((item["runs"] or [{}])[0].get("summary") or {}).get("warnings", []):  # the latest run's
            out.print(f"  [yellow]warning:[/] {escape(warning)}", highlight=False)
        table = Table(box=None, padding=(0, 2), show_edge=False)
        for column in ("  table", "records", "deleted", "cursor", ""):
            table.add_column(column, justify="right" if column in ("records", "deleted") else "left")
        for key, value in item["state"].items():
            stream = key.split(":", 1)[1]
            if ":" not in key or stream.endswith(".deletes") or not value.get("position"):
                continue
            live, dead = item["datasets"].get(f"{item['connector']}/{stream}", (0, 0))
            cursor, after = value["position"]
            where = cursor.replace("T", " ")[:19] + (f" after {after}" if after else "")
            done = "done" if value.get("done") else "in progress" if "done" in value else ""
            table.add_row(f"  {stream}", f"{live:,}", f"{dead:,}", where, done)
        out.print(table)
        for dataset, pk, reason in item["quarantined"]:
            out.print(f"  [yellow]quarantined[/] {dataset} {pk}: {reason}", highlight=False)
        for dataset, entities in item["redactions"].items():
            out.print(f"  redacted in {dataset}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(entities.items())))
        for bf in item["backfills"]:
            out.print(f"  backfill #{bf['id']} {bf['status']} {(bf['range_start'] or '…')[:10]} → "
                      f"{bf['range_end'][:10]}: {bf['chunks_done']}/{bf['chunks_total']} chunks, {bf['rows']:,} rows"
                      + (f", ETA {bf['eta_seconds']:,.0f}s" if bf.get("eta_seconds") else ""), highlight=False)


def pipeline_status(cfg: Config, store: Store, name: str) -> dict[str, Any]:
    pipeline = cfg.pipeline(name)
    prefix = f"{pipeline.connector}/"
    return {"connector": pipeline.connector, "mode": pipeline.mode, "runs": store.runs(name, limit=5),
            "state": store.all_state(name), "datasets": store.dataset_counts(prefix),
            "quarantined": store.quarantined(prefix), "redactions": store.redaction_totals(prefix),
            "backfills": list_backfills(store, name, active_only=True)}


def export(pipeline: Annotated[str, typer.Option("--pipeline", "-p")],
           table: Annotated[str, typer.Option("--table", "-t", help="Table, object or stream name.")],
           fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl or csv")] = "jsonl",
           out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Output file (default stdout).")] = None,
           config: ConfigOpt = Path(DEFAULT_CONFIG)) -> None:
    """Write a table's stored records, one object per record plus `_deleted`. A table the pipeline syncs but that
    has nothing stored yet exports as empty (csv: its header)."""
    if fmt not in ("jsonl", "csv"):
        raise ConfigError(f"unknown export format '{fmt}'", "use --format jsonl or --format csv")
    if out_file is not None and not out_file.parent.is_dir():
        raise ConfigError(f"--out {out_file}: the directory {out_file.parent} does not exist", "create it first")
    cfg = load_config(config, secrets_for=())
    spec = cfg.pipeline(pipeline)
    store = existing_store(cfg)
    source = plugin(cfg.connector(spec.connector).type)
    dataset = dataset_of(spec.connector, table)
    if not store.has_dataset(dataset):
        stored = (name.split("/", 1)[1] for name in store.dataset_counts(f"{spec.connector}/"))
        known = sorted({*source.tables(spec), *stored})
        if table not in known:
            raise ConfigError(f"pipeline '{pipeline}' has no table '{table}'", f"pick one of: {', '.join(known)}")
    key = source.key

    def rows() -> Iterator[dict[str, Any]]:
        # a record deleted before udc ever saw it is a bare tombstone: its key, under the source's own key field,
        # so exports join on one column
        for pk, record, deleted in store.iter_records(dataset):
            yield {**(record or {key: pk}), "_deleted": deleted}

    # into a file beside the target, renamed over it once whole: a failed export leaves no half-written file
    partial = out_file.with_name(f".{out_file.name}.partial") if out_file else None
    # the owner's only (0600), as the store it comes from
    target = os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", newline="") \
        if partial else sys.stdout
    try:
        if fmt == "jsonl":
            for row in rows():
                target.write(orjson.dumps(row).decode() + "\n")
        else:
            configured = next((t.fields for t in spec.tables if t.name == table and t.fields), None)
            _write_csv(target, rows, [key, *(configured or []), "_deleted"])
    except BaseException:
        if partial:
            target.close()
            partial.unlink(missing_ok=True)
        raise
    if partial and out_file:
        target.close()
        partial.replace(out_file)


def _write_csv(target: Any, rows: Callable[[], Iterator[dict[str, Any]]], empty: list[str]) -> None:
    """Two passes over the store, one for the columns and one for the rows, so a big table is never held in memory.
    `empty`: the header when there are no rows."""
    columns = list(dict.fromkeys(key for row in rows() for key in row)) or list(dict.fromkeys(empty))
    writer = csv.DictWriter(target, fieldnames=columns)
    writer.writeheader()
    for row in rows():
        writer.writerow({k: (json.dumps(v) if isinstance(v, dict | list) else v) for k, v in row.items()})
