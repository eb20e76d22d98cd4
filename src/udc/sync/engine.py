"""The sync engine: moves pages from a source's streams into the store, one transaction per page.

Historical runs read [start_date, end_date or the moment the pass began) and keep that window in their own
state, so a resumed pass finishes the same window. Incremental cycles read from their own position up to
now − lag (invariant 4) and never look back to start_date (invariant 5).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from udc.config import Config, Pipeline
from udc.errors import QuotaExhausted, UdcError
from udc.secrets import scrub
from udc.sources import build_source
from udc.sources.base import Page, Position, Source, Stream, Window
from udc.store import PageWrite, SqliteStore, UpsertCounts
from udc.timeutil import cursor_str, parse_time, utcnow

log = logging.getLogger("udc.sync")


@dataclass
class StreamResult:
    stream: str
    dataset: str
    status: str = "running"  # running, done, stopped (checkpointed), failed
    rows: int = 0
    pages: int = 0
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    quarantined: list[tuple[str, str]] = field(default_factory=list)
    window: tuple[str | None, str] = (None, "")
    seconds: float = 0.0
    error: str = ""


@dataclass
class RunSummary:
    run_id: int
    pipeline: str
    mode: str
    status: str
    streams: list[StreamResult]
    calls: int = 0
    retries: int = 0
    bytes: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


ProgressHook = Callable[[StreamResult], None]


class Stop:
    """Set by a signal handler: every stream stops after the page it is storing."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __bool__(self) -> bool:
        return self.event.is_set()


def state_key(mode: str, stream: Stream) -> str:
    return f"{mode}:{stream.name}"


def plan_window(mode: str, pipeline: Pipeline, state: dict[str, Any] | None, now: datetime
                ) -> tuple[Window | None, Position | None, dict[str, Any]]:
    """The window to read, where to resume inside it, and the state that describes this pass."""
    now = now.replace(microsecond=0)
    if mode == "incremental":
        end = now - pipeline.lag
        if state is None:  # first cycle: start from this moment, never from start_date
            return None, None, {"position": Position(cursor_str(now)).to_json()}
        position = Position.from_json(state["position"])
        if end <= parse_time(position.cursor):
            return None, None, state
        return Window(parse_time(position.cursor), end), position, state
    start = parse_time(pipeline.start_date) if pipeline.start_date else None
    wanted_start = cursor_str(start) if start else None
    if state and not state.get("done") and state.get("start") == wanted_start and (
            pipeline.end_date is None or state["end"] == cursor_str(pipeline.end_date)):
        window = Window(start, parse_time(state["end"]))
        resume = Position.from_json(state["position"]) if state.get("position") else None
        return window, resume, state
    end = parse_time(pipeline.end_date) if pipeline.end_date else now
    fresh = {"start": wanted_start, "end": cursor_str(end), "position": None, "done": False}
    return Window(start, end), None, fresh


class Engine:
    def __init__(self, config: Config, store: SqliteStore, *, stop: Stop | None = None,
                 on_progress: ProgressHook | None = None, workers: int = 4) -> None:
        self.config, self.store = config, store
        self.stop = stop or Stop()
        self.on_progress = on_progress or (lambda result: None)
        self.workers = workers

    def sync(self, pipeline_name: str, now: datetime | None = None) -> RunSummary:
        pipeline = self.config.pipeline(pipeline_name)
        now = now or utcnow()
        source = build_source(self.config, pipeline_name)
        run_id = self.store.begin_run(pipeline_name, pipeline.mode)
        started = time.monotonic()
        summary = RunSummary(run_id, pipeline_name, pipeline.mode, "running", [])
        try:
            streams = source.streams()
            redactor = self._redactor(pipeline)
            summary.streams = [StreamResult(s.name, s.dataset) for s in streams]
            with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(streams)))) as pool:
                futures = [pool.submit(self._run_stream, pipeline_name, pipeline, s, r, run_id, now, redactor)
                           for s, r in zip(streams, summary.streams, strict=True)]
                for future in futures:
                    future.result()
            summary.warnings += getattr(source, "notes", [])
            states = {r.status for r in summary.streams}
            summary.status = "failed" if "failed" in states else "stopped" if "stopped" in states else "succeeded"
        except UdcError as exc:
            summary.status, summary.warnings = "failed", [*summary.warnings, scrub(str(exc))]
            raise
        finally:
            stats = getattr(source, "client", None)
            if stats is not None:
                summary.calls, summary.retries, summary.bytes = stats.stats.calls, stats.stats.retries, stats.stats.bytes
            summary.seconds = round(time.monotonic() - started, 3)
            for result in summary.streams:
                summary.warnings += [f"{result.dataset} {pk}: {reason}" for pk, reason in result.quarantined]
            if summary.status == "running":
                summary.status = "failed"
            self.store.finish_run(run_id, summary.status, summary.to_json())
            source.close()
        return summary

    def _redactor(self, pipeline: Pipeline) -> Any:
        if not pipeline.redaction.enabled:
            return None
        from udc.redact import Redactor

        return Redactor(pipeline.redaction, self.config.connector(pipeline.connector).type)

    def _run_stream(self, pipeline_name: str, pipeline: Pipeline, stream: Stream, result: StreamResult, run_id: int,
                    now: datetime, redactor: Any) -> None:
        started = time.monotonic()
        key = state_key(pipeline.mode, stream)
        window, resume, state = plan_window(pipeline.mode, pipeline, self.store.get_state(pipeline_name, key), now)
        try:
            if window is None:
                self.store.set_state(pipeline_name, key, state)
                result.status = "done"
                return
            result.window = (cursor_str(window.start) if window.start else None, cursor_str(window.end))
            self.on_progress(result)
            for page in stream.read(window, resume):
                self._store_page(pipeline_name, key, stream, page, state, result, run_id, redactor)
                if self.stop:
                    result.status = "stopped"
                    return
            final = {**state, "position": Position(cursor_str(window.end)).to_json()}
            if pipeline.mode == "historical":
                final["done"] = True
            self.store.set_state(pipeline_name, key, final)
            result.status = "done"
        except QuotaExhausted as exc:
            result.status, result.error = "stopped", scrub(str(exc))
        except UdcError as exc:
            result.status, result.error = "failed", scrub(str(exc))
            log.error("%s: %s", stream.dataset, result.error)
        except Exception as exc:  # an unexpected bug must not leave secrets or a half-written page behind
            result.status, result.error = "failed", scrub(f"{type(exc).__name__}: {exc}")
            log.exception("%s failed", stream.dataset)
        finally:
            result.seconds = round(time.monotonic() - started, 3)
            self.on_progress(result)

    def _store_page(self, pipeline_name: str, key: str, stream: Stream, page: Page, state: dict[str, Any],
                    result: StreamResult, run_id: int, redactor: Any) -> None:
        rows = [(str(r[stream.primary_key]), stream.cursor_of(r), r) for r in page.records]
        counts = redactor.redact_records(stream.name, page.records) if redactor and page.records else {}
        new_state = None
        if page.position is not None:
            state["position"] = page.position.to_json()
            new_state = (pipeline_name, key, dict(state))
        written = self.store.write(PageWrite(stream.dataset, rows, page.tombstones, page.edges, page.quarantined,
                                             counts, new_state), run_id)
        result.pages += 1
        result.rows += len(rows)
        result.counts.add(written)
        result.quarantined += page.quarantined
        self.on_progress(result)


def run_pipeline(config: Config, pipeline: str, store: SqliteStore, **kwargs: Any) -> RunSummary:
    return Engine(config, store, **kwargs).sync(pipeline)


__all__ = ["Engine", "RunSummary", "Source", "Stop", "StreamResult", "plan_window", "run_pipeline"]
