"""Run progress for people: a live rich table on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
import threading
import time
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from udc.sync.engine import StreamResult

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
    from udc.secrets import ScrubFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(ScrubFilter())
    root = logging.getLogger("udc")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
