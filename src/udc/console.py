"""What a person sees in the terminal: live run progress (a rich table, or plain log lines when not a terminal),
run summaries, backfill status, and the log format."""

from __future__ import annotations

import logging
import sys
import threading
import time
from datetime import timedelta
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from udc.secrets import ScrubFilter
from udc.sync.lifecycle import RunSummary
from udc.sync.pump import StreamResult

log = logging.getLogger("udc.progress")


class RunProgress:
    """Per-stream rows, pages and rate. Use as a context manager; pass `update` to the engine."""

    def __init__(self, pipeline: str, console: Console | None = None, interval: float = 10.0) -> None:
        self.console = console or Console(stderr=True)
        self.live = self.console.is_terminal
        self.pipeline, self.interval = pipeline, interval
        self._tasks: dict[str, TaskID] = {}
        self._last_log: dict[str, float] = {}
        self._lock = threading.Lock()
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(bar_width=None, pulse_style="cyan"),
            TextColumn("{task.fields[rows]:>9,} rows  {task.fields[pages]:>6,} pages  {task.fields[rate]:>8} rows/s"),
            TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=self.console, transient=False)

    def __enter__(self) -> RunProgress:
        if self.live:
            self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.live:
            self._progress.stop()

    def update(self, result: StreamResult) -> None:
        with self._lock:
            rate = f"{result.rows / result.seconds:,.0f}" if result.seconds else "—"
            if self.live:
                task = self._tasks.get(result.dataset + result.stream)
                if task is None:
                    task = self._tasks[result.dataset + result.stream] = self._progress.add_task(
                        result.stream, total=None, rows=0, pages=0, rate="—", status="")
                started = self._progress.tasks[task].elapsed or 0
                live_rate = f"{result.rows / started:,.0f}" if started > 0.5 else "—"
                done = result.status != "running"
                self._progress.update(task, rows=result.rows, pages=result.pages,
                                      rate=rate if done else live_rate,
                                      status="" if not done else result.status, total=1 if done else None,
                                      completed=1 if done else 0)
                return
            now = time.monotonic()
            key = result.dataset + result.stream
            if result.status != "running" or now - self._last_log.get(key, 0) >= self.interval:
                self._last_log[key] = now
                log.info("%s %s: %s rows, %s pages%s", self.pipeline, result.stream, f"{result.rows:,}",
                         f"{result.pages:,}", "" if result.status == "running" else f", {result.status}")


def setup_logging(verbose: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(ScrubFilter())
    root = logging.getLogger("udc")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def print_summary(summary: RunSummary, console: Console) -> None:
    table = Table(title=f"{summary.pipeline} · {summary.mode} run #{summary.run_id} · {summary.status}",
                  title_justify="left")
    for column in ("stream", "rows", "new", "updated", "unchanged", "deleted", "pages", "status"):
        table.add_column(column, justify="left" if column in ("stream", "status") else "right")
    for s in summary.streams:
        if s.stream.endswith(".deletes") and not s.counts.deleted and s.status == "done":
            continue
        status = s.status if not s.error else f"{s.status}: {s.error.splitlines()[0]}"
        # a record older than the stored version is kept out (newest wins): the store is unchanged by it, and the
        # columns add up to the rows read
        table.add_row(s.stream, f"{s.rows:,}", f"{s.counts.inserted:,}", f"{s.counts.updated:,}",
                      f"{s.counts.unchanged + s.counts.stale:,}", f"{s.counts.deleted:,}", f"{s.pages:,}", status)
    console.print(table)
    rate = sum(s.rows for s in summary.streams) / summary.seconds if summary.seconds else 0
    console.print(f"{summary.calls:,} calls, {summary.retries:,} retries, {summary.bytes / 1e6:,.1f} MB in "
                  f"{summary.seconds:,.1f}s ({rate:,.0f} rows/s)")
    for warning in summary.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return str(timedelta(seconds=int(seconds)))


def print_backfill(item: dict[str, Any], console: Console, brief: bool = False) -> None:
    start = (item["range_start"] or "beginning")[:10]
    head = (f"[bold]backfill #{item['id']}[/] {item['pipeline']} ({item['kind']}) {start} → {item['range_end'][:10]}"
            f"  {item['status']}  {item['chunks_done']}/{item['chunks_total']} chunks, {item['rows']:,} rows")
    if item.get("rate") is not None:
        head += f", {item['rate']:,.0f} rows/s"
    if item["status"] not in ("done", "failed") and item.get("eta_seconds") is not None:
        head += f", ETA {_duration(item['eta_seconds'])}"
    console.print(head, highlight=False)
    if item["status"] == "waiting" or (item.get("window_open") is False and item["status"] != "done"):
        console.print(f"  window {item['offpeak']} {item['tz']} is closed; next opens "
                      f"{item['window_next_open'][:16]} UTC", highlight=False)
    if item.get("error"):
        console.print(f"  [yellow]{item['error']}[/]", highlight=False)
    for seq_info in item["failed"]:
        last = seq_info["errors"][-1]["error"] if seq_info["errors"] else ""
        console.print(f"  [red]failed[/] chunk {seq_info['seq']} {(seq_info['start'] or '…')[:10]} "
                      f"after {seq_info['attempts']} attempts: {last}", highlight=False, markup=True)
    if brief:
        return
    chunks = ", ".join(f"{n} {s}" for s, n in sorted(item["chunks"].items()))
    console.print(f"  chunks: {chunks}; {item['pages']:,} pages", highlight=False)
    for table, counts in sorted(item["tables"].items()):
        console.print(f"  {table}: {counts['rows']:,} rows, {counts['deleted']:,} deletes", highlight=False)
    for chunk in item["running"]:
        on = f" on {chunk['worker']}" if chunk.get("worker") else ""
        console.print(f"  running chunk {chunk['seq']} {(chunk['start'] or '…')[:10]}{on} (attempt "
                      f"{chunk['attempts']})", highlight=False)
    for chunk in item["retrying"]:
        console.print(f"  retrying chunk {chunk['seq']} (attempt {chunk['attempts']} failed: "
                      f"{chunk['errors'][-1]['error']})", highlight=False, markup=False)
