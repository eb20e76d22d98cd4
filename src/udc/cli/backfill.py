"""`udc backfill …`, `udc backfill status` and `udc run`: command bodies, registered in `udc.cli`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from udc.cli.common import STOPPED, ConfigOpt, err, existing_store, out, print_json, stoppable, when
from udc.cli.serve import HostOpt, PortOpt, open_dashboard
from udc.config import DEFAULT_CONFIG, Config, load_config
from udc.console import print_backfill, setup_logging
from udc.errors import ConfigError
from udc.scale.app import DEFAULT_QUEUE, configure, shown_broker, take_broker_url
from udc.scale.tasks import CeleryExecutor
from udc.serve.settings import DEFAULT_HOST, DEFAULT_PORT
from udc.store import open_store, store_exists
from udc.sync.backfill import (
    DEFAULT_LEASE,
    UNFINISHED,
    BackfillRunner,
    ChunkOutcome,
    backfill_status,
    check_backfill,
    create_backfill,
    list_backfills,
)
from udc.sync.scheduler import Scheduler, scheduled
from udc.sync.windows import OffPeak
from udc.timeutil import parse_duration, utcnow


def backfill(ctx: typer.Context,
             pipeline: Annotated[str | None, typer.Option("--pipeline", "-p", help="Pipeline to re-pull.")] = None,
             start: Annotated[str | None, typer.Option(help="First day (UTC) of the range, e.g. 2025-03-01.")] = None,
             end: Annotated[str | None, typer.Option(help="End of the range, exclusive (UTC).")] = None,
             tables: Annotated[str | None, typer.Option(help="Only these tables, comma-separated.")] = None,
             chunk: Annotated[str, typer.Option(help="Chunk size: 6h, 1d, 7d…")] = "1d",
             parallel: Annotated[int, typer.Option(help="Chunks run at a time.")] = 4,
             window: Annotated[str | None, typer.Option(help="Off-peak window HH:MM-HH:MM; chunks start only "
                                                               "inside it.")] = None,
             tz: Annotated[str | None, typer.Option(help="Time zone of --window (IANA name; default UTC).")] = None,
             attempts: Annotated[int, typer.Option(help="Attempts per chunk before it is marked failed.")] = 3,
             resume: Annotated[int | None, typer.Option("--resume", help="Continue backfill ID from its ledger "
                                                        "(re-runs interrupted and failed chunks).")] = None,
             queue: Annotated[bool, typer.Option("--queue", help="Record it for `udc run` instead of running "
                                                 "it now.")] = False,
             config: ConfigOpt = Path(DEFAULT_CONFIG),
             json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
             verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """Re-pull a date range of a pipeline in chunks, or --resume one; `udc backfill status` watches them."""
    if ctx.invoked_subcommand is not None:
        return

    setup_logging(verbose)
    if tz is not None and window is None:
        raise ConfigError("--tz is the time zone of --window, and there is no --window",
                          "add --window HH:MM-HH:MM, or drop --tz")
    if resume is not None:
        if pipeline or start or end:
            raise ConfigError("--resume continues a recorded backfill; it takes no --pipeline/--start/--end",
                              f"run `udc backfill --resume {resume}` alone")
        store = existing_store(load_config(config, secrets_for=()))
        recorded = store.backfills(backfill_id=resume)  # its pipeline's secrets only, as a new backfill reads
        cfg = load_config(config, [recorded[0]["pipeline"]] if recorded else ())
        backfill_id = resume
        total = len(store.chunks(backfill_id))
    else:
        if not (pipeline and start and end):
            raise ConfigError("a backfill needs --pipeline, --start and --end",
                              "e.g. udc backfill --pipeline P --start 2025-03-01 --end 2025-03-31")
        try:
            size = parse_duration(chunk)
        except ValueError as exc:
            raise ConfigError(f"--chunk: {exc}", "use 6h, 1d or 7d") from None
        off_peak = OffPeak.parse(window, tz or "UTC") if window else None
        if off_peak and off_peak.start == off_peak.end:
            raise ConfigError(f"--window {window} starts where it ends",
                              "give it a length, e.g. 00:00-06:00 (22:00-06:00 crosses midnight); for any time of "
                              "day, leave --window out")
        names = [t.strip() for t in tables.split(",") if t.strip()] if tables else None
        first, last = when(start, "--start"), when(end, "--end")
        cfg = load_config(config, () if queue else [pipeline])  # queued: `udc run` reads the secrets it runs with
        check_backfill(cfg, pipeline, first, last, tables=names, chunk=size, parallel=parallel, max_attempts=attempts)
        store = open_store(cfg.store, cfg.store_secret())
        backfill_id = create_backfill(cfg, store, pipeline, first, last, tables=names, chunk=size, parallel=parallel,
                                      window=off_peak, max_attempts=attempts)
        total = len(store.chunks(backfill_id))
        err.print(f"backfill #{backfill_id}: {pipeline} {start} → {end} in {total} chunk(s)"
                  + (f", inside {off_peak}" if off_peak else ""), highlight=False)
        if queue:
            out.print(f"queued backfill #{backfill_id}; `udc run` will run it")
            return

    def on_chunk(outcome: ChunkOutcome, chunk: dict[str, Any]) -> None:
        rows = sum(t["rows"] + t["deleted"] for t in chunk["rows"].values())
        what = {"done": "done", "paused": "paused", "halted": "stopped"}.get(
            outcome.status, "failed" if chunk["status"] == "failed" else "will retry")
        line = (f"chunk {chunk['seq']}/{total} {(chunk['chunk_start'] or '…')[:10]}: {what}, {rows:,} rows, "
                f"attempt {chunk['attempts'] + (1 if outcome.status in ('paused', 'halted') else 0)}")
        err.print(line + (f" — {outcome.error}" if outcome.error else ""), highlight=False, markup=False)

    with stoppable() as stop:
        report = BackfillRunner(cfg, store, backfill_id, stop=stop, on_chunk=on_chunk,
                                retry_failed=resume is not None).run()
    status = backfill_status(store, backfill_id)
    if json_out:
        print_json(status)
    else:
        print_backfill(status, out)
    if report.status == "failed":
        raise typer.Exit(1)
    if stop and report.status == "stopped":  # a stop that came after the last chunk: a finished backfill, exit 0
        err.print(f"stopped: `udc backfill --resume {backfill_id}` continues it", highlight=False)
        raise typer.Exit(STOPPED)


def status(backfill_id: Annotated[int | None, typer.Argument(help="Backfill id (default: all of them).")] = None,
           config: ConfigOpt = Path(DEFAULT_CONFIG),
           pipeline: Annotated[str | None, typer.Option("--pipeline", "-p")] = None,
           json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Chunk completion, rows per table, failed chunks with their errors, rate and time left."""
    store = existing_store(load_config(config, secrets_for=()))
    items = [backfill_status(store, backfill_id)] if backfill_id is not None else list_backfills(store, pipeline)
    if json_out:
        print_json(items[0] if backfill_id is not None else items)
        return
    if not items:
        out.print("no backfills yet (start one with `udc backfill --pipeline P --start … --end …`)")
    for item in items:
        print_backfill(item, out, brief=backfill_id is None)


def run(pipeline: Annotated[list[str] | None, typer.Option("--pipeline", "-p", help="Pipelines to keep syncing "
                                                           "(default: every incremental pipeline).")] = None,
        config: ConfigOpt = Path(DEFAULT_CONFIG),
        no_backfills: Annotated[bool, typer.Option("--no-backfills", help="Do not run queued backfills.")] = False,
        executor: Annotated[str, typer.Option(help="local: cycles and chunks run in this process; celery: on "
                                              "`udc worker`s, through UDC_BROKER_URL.")] = "local",
        lease: Annotated[float, typer.Option(help="Seconds a backfill chunk stays a worker's without renewal; a "
                                             "killed worker's chunk is taken over after it.")] = DEFAULT_LEASE,
        queue: Annotated[str, typer.Option(help="Celery queue for the tasks (the workers' --queue).")] = DEFAULT_QUEUE,
        serve: Annotated[bool, typer.Option("--serve", help="Serve the dashboard (as `udc serve`) from this "
                                            "process too.")] = False,
        host: HostOpt = DEFAULT_HOST, port: PortOpt = DEFAULT_PORT,
        verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """Keep incremental pipelines syncing at their frequency and run queued backfills alongside (Ctrl-C or SIGTERM
    stops it, exit 0: the normal end of a service)."""
    setup_logging(verbose)
    if executor not in ("local", "celery"):
        raise ConfigError(f"--executor {executor}: unknown executor", "use --executor local or --executor celery")
    if lease < 5:
        raise ConfigError(f"--lease {lease:g} is too short: a worker renews its chunks every third of it",
                          "use --lease 5 or more (the default is 60)")
    # celery: the tasks carry names, each worker reads the secrets where it runs; this process reads none of them
    cfg = load_config(config, secrets_for=() if executor == "celery" else None)
    cycles = scheduled(cfg, pipeline or None)  # an unknown name, or no incremental pipeline at all: refused here
    if pipeline and not cycles and (no_backfills or not _queued(cfg, pipeline)):
        raise ConfigError(f"nothing to run: {', '.join(pipeline)} {'is' if len(pipeline) == 1 else 'are'} historical, "
                          "and `udc run` keeps incremental pipelines syncing and runs queued backfills",
                          f"run it once with `udc sync --pipeline {pipeline[0]}`, or set `mode: incremental`")
    store = open_store(cfg.store, cfg.store_secret())

    def event(kind: str, info: dict[str, Any]) -> None:
        at = utcnow().strftime("%H:%M:%S")
        if kind == "started":
            err.print(f"{at} scheduling {', '.join(info['pipelines']) or 'no cycles'}"
                      + (" and queued backfills" if info["backfills"] else ""), highlight=False)
        elif kind == "cycle-end":
            err.print(f"{at} {info['pipeline']}: cycle {info['status']}, next in {info['next_in']:,.0f}s",
                      highlight=False)
        elif kind == "backfill-start":
            err.print(f"{at} backfill #{info['backfill']} started", highlight=False)
        elif kind == "backfill-end":
            err.print(f"{at} backfill #{info['backfill']}: {info['status']}", highlight=False)
        elif kind == "stopped":
            err.print(f"{at} stopped", highlight=False)

    dashboard = open_dashboard(config, host, port).start() if serve else None
    try:
        with stoppable() as stop:
            if executor == "celery":
                configure(take_broker_url(), queue)
                err.print(f"sending cycles and chunks to the workers of {shown_broker()} (queue {queue})",
                          highlight=False)
                remote = CeleryExecutor(config, store, stop, lease)
                run_cycle, run_backfill = remote.cycle, remote.backfill
            else:
                run_cycle = None  # the scheduler's own: an Engine cycle in this process

                def run_backfill(backfill_id: int) -> str:
                    return BackfillRunner(cfg, store, backfill_id, stop=stop, lease=lease).run().status

            Scheduler(cfg, store, pipeline or None, stop=stop, backfills=not no_backfills, on_event=event,
                      run_cycle=run_cycle, run_backfill=run_backfill).run()
    finally:
        if dashboard is not None:
            dashboard.stop()


def _queued(cfg: Config, pipelines: list[str]) -> bool:
    """Whether these pipelines have an unfinished backfill for `udc run` to run (never creating the store)."""
    if not store_exists(cfg.store, cfg.store_secret()):
        return False
    store = open_store(cfg.store, cfg.store_secret())
    try:
        return any(b["pipeline"] in pipelines and b["status"] in UNFINISHED for b in store.backfills())
    finally:
        store.close()


__all__ = ["backfill", "run", "status"]
