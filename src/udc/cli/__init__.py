"""The `udc` command: the app, its sub-commands, and the small commands that only describe or check things.

Command bodies that run pipelines live in `udc.cli.sync` and `udc.cli.backfill`; what they share is
`udc.cli.common`.
"""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path
from typing import Annotated

import typer

from udc.check import print_report, record_report, run_check
from udc.cli import backfill as backfill_commands
from udc.cli import query as query_commands
from udc.cli import scale as scale_commands
from udc.cli import serve as serve_commands
from udc.cli import store as store_commands
from udc.cli import sync as sync_commands
from udc.cli.common import ConfigOpt, guarded, out, print_json
from udc.config import DEFAULT_CONFIG, json_schema, load_config
from udc.demo import run_demo
from udc.http import redis_budget
from udc.scale.app import take_broker_url
from udc.serve.settings import DEFAULT_HOST, DEFAULT_PORT
from udc.sources.discovery import discover as run_discover
from udc.version import __version__

app = typer.Typer(help="udc — sync ServiceNow, Jira, Salesforce and Confluence into a local knowledge store.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
config_app = typer.Typer(help="Check and describe udc.yaml.", no_args_is_help=True)
app.add_typer(config_app, name="config")
backfill_app = typer.Typer(help="Re-pull a date range of a pipeline in chunks; `status` watches backfills.",
                           invoke_without_command=True, no_args_is_help=True)
app.add_typer(backfill_app, name="backfill")
app.command()(guarded(sync_commands.sync))
app.command()(guarded(sync_commands.status))
app.command()(guarded(sync_commands.export))
backfill_app.callback()(guarded(backfill_commands.backfill))
backfill_app.command("status")(guarded(backfill_commands.status))
app.command("run")(guarded(backfill_commands.run))
app.command("worker")(guarded(scale_commands.worker))
app.command("serve")(guarded(serve_commands.serve))
for query_command in (query_commands.search, query_commands.related, query_commands.changes, query_commands.similar,
                      query_commands.trends):
    app.command()(guarded(query_command))
store_app = typer.Typer(help="Move a store: `copy` one into another (SQLite ↔ PostgreSQL).", no_args_is_help=True)
app.add_typer(store_app, name="store")
store_app.command("copy")(guarded(store_commands.copy))


def _print_version(asked: bool) -> None:
    if asked:
        out.print(f"udc {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def settle_startup_objects(version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                                                 help="Print udc's version and exit.")] = False
                           ) -> None:
    """Before any command: the tens of thousands of objects the imports made live as long as the process, so the
    cyclic garbage collector stops re-scanning them at every full collection (a tenth of a sync's CPU). The Celery
    broker's and the shared rate budget's URLs move from the environment into memory: no child process (the store's
    writer) inherits a password in them."""
    gc.freeze()
    take_broker_url()
    if budget := os.environ.pop(redis_budget.ENV, ""):
        redis_budget.configure(budget)


@app.command()
@guarded
def discover(connector: Annotated[str, typer.Option("--connector", help="Connector name.")],
             config: ConfigOpt = Path(DEFAULT_CONFIG),
             table: Annotated[str | None, typer.Option("--table", help="Only this table's fields.")] = None,
             json_out: Annotated[bool, typer.Option("--json", help="Print {table: {field: type}} as JSON.")] = False,
             ) -> None:
    """List the source's tables and their fields."""
    cfg = load_config(config)
    found = run_discover(cfg, connector, table)
    if json_out:
        print_json(found)
        return
    for name, fields in found.items():
        out.print(f"[bold]{name}[/]" + (f": {', '.join(fields)}" if fields else ""), highlight=False)


@app.command()
@guarded
def check(connector: Annotated[str, typer.Option("--connector", help="Connector name.")],
          config: ConfigOpt = Path(DEFAULT_CONFIG),
          json_out: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False) -> None:
    """Diagnose a connector: the troubleshooting playbook, with a verdict and the fix (exit 1 when unhealthy)."""
    cfg = load_config(config)
    report = run_check(cfg, connector)
    record_report(cfg, report)
    if json_out:
        print_json(report.to_json())
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
    out.print_json(json.dumps(json_schema()))


@app.command()
@guarded
def demo(workdir: Annotated[Path, typer.Option(help="Where the demo config and database go.")] = Path("udc-demo"),
         records: Annotated[int, typer.Option(help="Incidents in the simulated instance.")] = 2000,
         serve: Annotated[bool, typer.Option("--serve", help="Then serve the dashboard over the demo's store "
                                             "until Ctrl-C.")] = False,
         host: serve_commands.HostOpt = DEFAULT_HOST, port: serve_commands.PortOpt = DEFAULT_PORT) -> None:
    """Run everything on local simulators: historical sync, changes at the source, an incremental cycle."""
    run_demo(workdir, records, out)
    if serve:
        serve_commands.open_dashboard(workdir / "udc.yaml", host, port).run()
    else:
        out.print(f"\nSee it in a browser: udc serve --config {workdir / 'udc.yaml'}  (then open "
                  f"http://{DEFAULT_HOST}:{DEFAULT_PORT}/), or run the demo with --serve", highlight=False)
