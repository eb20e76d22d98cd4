"""The `udc` command."""

from __future__ import annotations

import csv
import gc
import json
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.table import Table

from udc.config import DEFAULT_CONFIG, Config, load_config
from udc.errors import ConfigError, UdcError
from udc.progress import RunProgress, setup_logging
from udc.secrets import scrub
from udc.store import Store, open_store
from udc.sync.backfill import list_backfills
from udc.sync.engine import Engine, RunSummary, Stop

app = typer.Typer(help="udc — sync ServiceNow, Jira and Salesforce into a local knowledge store.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
config_app = typer.Typer(help="Check and describe udc.yaml.", no_args_is_help=True)
app.add_typer(config_app, name="config")
backfill_app = typer.Typer(help="Re-pull a date range of a pipeline in chunks; `status` watches backfills.",
                           invoke_without_command=True, no_args_is_help=True)
app.add_typer(backfill_app, name="backfill")
out = Console()
err = Console(stderr=True)


@app.callback()
def settle_startup_objects() -> None:
    """Before any command: the tens of thousands of objects the imports made live as long as the process, so the
    cyclic garbage collector stops re-scanning them at every full collection (a tenth of a sync's CPU)."""
    gc.freeze()


ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Config file.", envvar="UDC_CONFIG")]
T = TypeVar("T")


def guarded(fn: Callable[..., T]) -> Callable[..., T]:
    """Expected failures print their message and fix and exit with their code — never a traceback."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except UdcError as exc:  # a StoreError too: the store's file is full, read-only, damaged...
            err.print(f"[bold red]error:[/] {scrub(exc.message)}", highlight=False, markup=True)
            if exc.hint:
                err.print(f"  [bold]fix:[/] {scrub(exc.hint)}", highlight=False)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def _load(config: Path) -> tuple[Config, Store]:
    cfg = load_config(config)
    return cfg, open_store(cfg.store)


@contextmanager
def _stoppable() -> Iterator[Stop]:
    """SIGINT/SIGTERM stop the run after the page being stored commits."""
    stop = Stop()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: object) -> None:
        if stop:
            raise KeyboardInterrupt
        err.print("stopping after the current page… (press again to abort)")
        stop.event.set()

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@app.command()
@guarded
def sync(pipeline: Annotated[str, typer.Option("--pipeline", "-p", help="Pipeline name.")],
         config: ConfigOpt = Path(DEFAULT_CONFIG),
         json_out: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")] = False,
         verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """Run a historical sync, or one incremental cycle, of a pipeline."""
    setup_logging(verbose)
    cfg, store = _load(config)
    cfg.pipeline(pipeline)
    with _stoppable() as stop, RunProgress(pipeline) as progress:
        summary = Engine(cfg, store, stop=stop, on_progress=progress.update).sync(pipeline)
    if json_out:
        out.print_json(orjson.dumps(summary.to_json()).decode())
    else:
        print_summary(summary, out)
    if summary.status == "failed":
        raise typer.Exit(1)


def print_summary(summary: RunSummary, console: Console) -> None:
    table = Table(title=f"{summary.pipeline} · {summary.mode} run #{summary.run_id} · {summary.status}",
                  title_justify="left")
    for column in ("stream", "rows", "new", "updated", "unchanged", "deleted", "pages", "status"):
        table.add_column(column, justify="left" if column in ("stream", "status") else "right")
    for s in summary.streams:
        if s.stream.endswith(".deletes") and not s.counts.deleted and s.status == "done":
            continue
        status = s.status if not s.error else f"{s.status}: {s.error.splitlines()[0]}"
        table.add_row(s.stream, f"{s.rows:,}", f"{s.counts.inserted:,}", f"{s.counts.updated:,}",
                      f"{s.counts.unchanged:,}", f"{s.counts.deleted:,}", f"{s.pages:,}", status)
    console.print(table)
    rate = sum(s.rows for s in summary.streams) / summary.seconds if summary.seconds else 0
    console.print(f"{summary.calls:,} calls, {summary.retries:,} retries, {summary.bytes / 1e6:,.1f} MB in "
                  f"{summary.seconds:,.1f}s ({rate:,.0f} rows/s)")
    for warning in summary.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)


@app.command()
@guarded
def status(config: ConfigOpt = Path(DEFAULT_CONFIG),
           pipeline: Annotated[str | None, typer.Option("--pipeline", "-p")] = None,
           json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Each pipeline's last runs, cursors, rows per table and quarantined records."""
    cfg, store = _load(config)
    names = [pipeline] if pipeline else list(cfg.pipelines)
    report = {name: pipeline_status(cfg, store, name) for name in names}
    if json_out:
        out.print_json(orjson.dumps(report).decode())
        return
    for name, item in report.items():
        out.print(f"[bold]{name}[/] ({item['connector']}, {item['mode']})")
        for run in item["runs"]:
            rows = sum(s["rows"] for s in (run["summary"] or {}).get("streams", []))
            out.print(f"  run #{run['id']} {run['status']:<9} {run['started_at'][:19]}  {rows:,} rows")
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


@app.command()
@guarded
def export(pipeline: Annotated[str, typer.Option("--pipeline", "-p")],
           table: Annotated[str, typer.Option("--table", "-t", help="Table, object or stream name.")],
           fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl or csv")] = "jsonl",
           out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Output file (default stdout).")] = None,
           config: ConfigOpt = Path(DEFAULT_CONFIG)) -> None:
    """Write a table's stored records, one object per record plus `_deleted`."""
    if fmt not in ("jsonl", "csv"):
        raise ConfigError(f"unknown export format '{fmt}'", "use --format jsonl or --format csv")
    cfg, store = _load(config)
    dataset = f"{cfg.pipeline(pipeline).connector}/{table}"
    if not store.has_dataset(dataset):
        known = ", ".join(d.split("/", 1)[1] for d in store.dataset_counts(f"{cfg.pipeline(pipeline).connector}/"))
        raise ConfigError(f"no stored records for table '{table}' of pipeline '{pipeline}'",
                          f"sync it first; stored tables: {known or 'none'}")
    def rows() -> Iterator[dict[str, Any]]:
        # a record deleted before udc ever saw it is a bare tombstone: give its key so it can still be matched
        for pk, record, deleted in store.iter_records(dataset):
            yield {**(record or {"_pk": pk}), "_deleted": deleted}

    target = out_file.open("w", newline="") if out_file else sys.stdout
    try:
        if fmt == "jsonl":
            for row in rows():
                target.write(orjson.dumps(row).decode() + "\n")
        else:
            _write_csv(target, rows)
    finally:
        if out_file:
            target.close()


def _write_csv(target: Any, rows: Callable[[], Iterator[dict[str, Any]]]) -> None:
    """Two passes over the store, one for the columns and one for the rows, so a big table is never held in memory."""
    columns = list(dict.fromkeys(key for row in rows() for key in row))
    writer = csv.DictWriter(target, fieldnames=columns)
    writer.writeheader()
    for row in rows():
        writer.writerow({k: (json.dumps(v) if isinstance(v, dict | list) else v) for k, v in row.items()})


@app.command()
@guarded
def discover(connector: Annotated[str, typer.Option("--connector", help="Connector name.")],
             config: ConfigOpt = Path(DEFAULT_CONFIG),
             table: Annotated[str | None, typer.Option("--table", help="Only this table's fields.")] = None) -> None:
    """List the source's tables and their fields."""
    from udc.sources.discovery import discover as run_discover

    cfg = load_config(config)
    for name, fields in run_discover(cfg, connector, table).items():
        out.print(f"[bold]{name}[/]" + (f": {', '.join(fields)}" if fields else ""), highlight=False)


@app.command()
@guarded
def check(connector: Annotated[str, typer.Option("--connector", help="Connector name.")],
          config: ConfigOpt = Path(DEFAULT_CONFIG),
          json_out: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False) -> None:
    """Diagnose a connector: the troubleshooting playbook, with a verdict and the fix (exit 1 when unhealthy)."""
    from udc.check import print_report, run_check

    report = run_check(load_config(config), connector)
    if json_out:
        out.print_json(orjson.dumps(report.to_json()).decode())
    else:
        print_report(report, out)
    if not report.healthy:
        raise typer.Exit(1)


@config_app.command("validate")
@guarded
def config_validate(config: ConfigOpt = Path(DEFAULT_CONFIG)) -> None:
    """Validate the config file (secrets resolved, nothing contacted)."""
    cfg = load_config(config)
    out.print(f"{config}: OK — {len(cfg.connectors)} connector(s), {len(cfg.pipelines)} pipeline(s)")


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of udc.yaml (for editor completion)."""
    out.print_json(json.dumps(Config.model_json_schema()))


@app.command()
@guarded
def demo(workdir: Annotated[Path, typer.Option(help="Where the demo config and database go.")] = Path("udc-demo"),
         records: Annotated[int, typer.Option(help="Incidents in the simulated instance.")] = 2000) -> None:
    """Run everything on local simulators: historical sync, changes at the source, an incremental cycle."""
    from udc.demo import run_demo

    run_demo(workdir, records, out)


# `udc backfill`, `udc backfill status` and `udc run` live in udc.backfill_cli (it imports the helpers above lazily)
from udc import backfill_cli  # noqa: E402

backfill_app.callback()(guarded(backfill_cli.backfill))
backfill_app.command("status")(guarded(backfill_cli.status))
app.command("run")(guarded(backfill_cli.run))
