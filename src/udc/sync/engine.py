"""The sync engine: moves pages from a source's streams into the store, one transaction per page.

Historical runs read [start_date, end_date or the moment the pass began) and keep that window in their own
state, so a resumed pass finishes the same window. Incremental cycles read from their own position up to
now − lag (invariant 4) and never look back to start_date (invariant 5).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import orjson

from udc.config import Config, Pipeline
from udc.errors import QuotaExhausted, UdcError
from udc.records import Page, Position, Window
from udc.secrets import scrub
from udc.sources import build_source
from udc.sources.base import Source, Stream
from udc.store import PageWrite, SqliteStore, UpsertCounts, encode_record, store_failure
from udc.timeutil import cursor_str, parse_time, utcnow

log = logging.getLogger("udc.sync")
PASS_IDS = itertools.count(1)  # tells the store's writer which pages belong to one pass


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

    def count_calls(self, source: Source | None) -> None:
        """Copy the source's HTTP call counters (shared by all its streams) into the summary."""
        if source is not None:
            self.calls, self.retries, self.bytes = source.stats.calls, source.stats.retries, source.stats.bytes


ProgressHook = Callable[[StreamResult], None]


@dataclass
class StreamPass:
    """One stream's read of one window, and where its progress commits.

    `owner` and `key` name the state row: the pipeline and `<mode>:<stream>`, or `backfill:<id>` and
    `<chunk>:<stream>`. `state` moves with every page, in that page's transaction (invariant 1); `state | finish` is
    stored when the stream's end signal comes. `window=None`: nothing to read, just store `state`. With `tally` the
    state also counts the pass's rows, tombstones and pages, so a pass resumed after a crash reports exact totals.
    """

    owner: str
    key: str
    window: Window | None
    resume: Position | None
    state: dict[str, Any]
    finish: dict[str, Any] = field(default_factory=dict)
    tally: bool = False


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
        self.stop = stop if stop is not None else Stop()  # an unset Stop is falsy: `or` would drop it
        self.on_progress = on_progress or (lambda result: None)
        self.workers = workers

    def sync(self, pipeline_name: str, now: datetime | None = None) -> RunSummary:
        """One historical pass or incremental cycle. Two syncs of one pipeline never overlap: the second raises
        LockHeld (the lock is an flock, so a killed holder never leaves it stale). A historical pipeline with an
        `end_date` runs as a one-time backfill of [start_date, end_date) in the chunk ledger."""
        pipeline = self.config.pipeline(pipeline_name)
        from udc.sync.locks import NamedLock

        with NamedLock(self.store.path, f"pipeline-{pipeline_name}"), self.store.writer():
            if pipeline.mode == "historical" and pipeline.end_date is not None:
                from udc.sync.backfill import run_historical_range

                return run_historical_range(self, pipeline_name)
            return self._sync(pipeline_name, pipeline, now)

    def _sync(self, pipeline_name: str, pipeline: Pipeline, now: datetime | None) -> RunSummary:
        now = now or utcnow()
        source = build_source(self.config, pipeline_name)
        run_id = self.store.begin_run(pipeline_name, pipeline.mode)
        started = time.monotonic()
        summary = RunSummary(run_id, pipeline_name, pipeline.mode, "running", [])
        try:
            streams = source.streams()
            redactor = self._redactor(pipeline)
            summary.streams = [StreamResult(s.name, s.dataset) for s in streams]
            # with redaction on, people tables (sys_user, Contact, User) go first: their names must be known before
            # the tables that mention them are redacted
            first = [redactor is not None and redactor.is_people_stream(s.name) for s in streams]
            with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(streams)))) as pool:
                for phase in (True, False):
                    batch = [(s, r) for s, r, f in zip(streams, summary.streams, first, strict=True) if f is phase]
                    if self.stop:  # stopped while the people tables were read
                        for _, result in batch:
                            result.status = "stopped"
                        continue
                    futures = [pool.submit(self._run_stream, pipeline_name, pipeline, s, r, run_id, now, redactor)
                               for s, r in batch]
                    for future in futures:
                        future.result()
            summary.warnings += source.notes
            states = {r.status for r in summary.streams}
            summary.status = "failed" if "failed" in states else "stopped" if "stopped" in states else "succeeded"
        except UdcError as exc:
            summary.status, summary.warnings = "failed", [*summary.warnings, scrub(str(exc))]
            raise
        finally:
            summary.count_calls(source)
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

        # the store remembers, as keyed digests, the names of people synced in earlier runs
        return Redactor(pipeline.redaction, pipeline.type, memory=self.store)

    def _run_stream(self, pipeline_name: str, pipeline: Pipeline, stream: Stream, result: StreamResult, run_id: int,
                    now: datetime, redactor: Any) -> None:
        key = state_key(pipeline.mode, stream)
        window, resume, state = plan_window(pipeline.mode, pipeline, self.store.get_state(pipeline_name, key), now)
        finish: dict[str, Any] = {"position": Position(cursor_str(window.end)).to_json()} if window else {}
        if window is not None and pipeline.mode == "historical":
            finish["done"] = True
        self.run_pass(stream, StreamPass(pipeline_name, key, window, resume, state, finish), result, run_id, redactor,
                      lambda: bool(self.stop))

    def run_pass(self, stream: Stream, spec: StreamPass, result: StreamResult, run_id: int, redactor: Any,
                 should_stop: Callable[[], bool]) -> BaseException | None:
        """The one page loop every mode uses: read `spec.window` from `spec.resume`, store each page together with
        the pass's state, and store `state | finish` once the stream's end signal comes. `should_stop` is asked
        after every committed page. Returns the error that ended the pass, if any (also in `result`)."""
        started = time.monotonic()
        state = spec.state
        error: BaseException | None = None
        try:
            if spec.window is None:
                self.store.set_state(spec.owner, spec.key, state)
                result.status = "done"
                return None
            window = spec.window
            result.window = (cursor_str(window.start) if window.start else None, cursor_str(window.end))
            self.on_progress(result)
            if not self._store_pages(spec, stream, window, result, run_id, redactor, should_stop):
                result.status = "stopped"
                return None
            result.status = "done"
        except QuotaExhausted as exc:
            result.status, result.error, error = "stopped", scrub(str(exc)), exc
        except (UdcError, sqlite3.Error) as exc:
            error = store_failure(exc, self.store.path) if isinstance(exc, sqlite3.Error) else exc
            result.status, result.error = "failed", scrub(str(error))
            log.error("%s: %s", stream.dataset, result.error)
        except Exception as exc:  # an unexpected bug must not leave secrets or a half-written page behind
            result.status, result.error, error = "failed", scrub(f"{type(exc).__name__}: {exc}"), exc
            log.exception("%s failed", stream.dataset)
        finally:
            result.seconds = round(result.seconds + time.monotonic() - started, 3)
            self.on_progress(result)
        return error

    def _store_pages(self, spec: StreamPass, stream: Stream, window: Window, result: StreamResult, run_id: int,
                     redactor: Any, should_stop: Callable[[], bool]) -> bool:
        """Read and store the window's pages and then the pass's end (`spec.finish`); False when `should_stop` said
        so after a commit, before the end.

        Two pages are in the store's hands at a time, so while its writer process commits one, the next waits ready
        and this thread reads the one after. The newest page is held back until the next one is read: the last page
        carries the pass's end in its transaction, so a pass ends without a round trip of its own. Pages commit
        in order, and once one fails the writer refuses the rest of the pass: no page is stored after a gap. Pages
        handed over before a stop or an error still commit, and count."""
        ahead = dict(spec.state)  # the state as of the last *prepared* page, which runs ahead of the stored one
        pass_id = next(PASS_IDS)
        inflight: deque[tuple[PageWrite, Future[UpsertCounts], bool]] = deque()
        held: PageWrite | None = None

        def hand_over(write: PageWrite, is_page: bool = True) -> None:
            write.pass_id = pass_id
            inflight.append((write, self.store.submit(write, run_id), is_page))

        try:
            for page in stream.read(window, spec.resume):
                if held is not None:
                    hand_over(held)
                    held = None
                held = self._prepare(spec, stream, page, redactor, ahead)
                if len(inflight) > 1:
                    self._commit(spec, *inflight.popleft(), result)
                    if should_stop():
                        return False
            stopping = should_stop()  # what was read is stored, but not the end: the next run confirms it
            end = (spec.owner, spec.key, {**ahead, **spec.finish})
            if held is not None:
                held.state = held.state if stopping else end
                hand_over(held)
                held = None
            elif not stopping:
                hand_over(PageWrite(stream.dataset, state=end), is_page=False)
            while inflight:
                self._commit(spec, *inflight.popleft(), result)
            return not stopping
        except BaseException:
            if held is not None:  # read before the error: worth storing
                hand_over(held)
            raise
        finally:
            while inflight:  # ended by a stop or an error: wait for what was handed over (refused after a failure)
                with contextlib.suppress(Exception):
                    self._commit(spec, *inflight.popleft(), result)

    @staticmethod
    def _prepare(spec: StreamPass, stream: Stream, page: Page, redactor: Any, ahead: dict[str, Any]
                 ) -> PageWrite:
        """Everything but the write: keys and cursors (taken before redaction), redaction, encoding (unless the stream
        gave encoded records), the state the page moves to."""
        counts: dict[str, int] = {}
        if page.encoded is not None:
            encoded = page.encoded
            if redactor is not None and encoded:
                records = [orjson.loads(data) for _, _, data, _ in encoded]
                counts = redactor.redact_records(stream.name, records)
                encoded = [(pk, cursor, orjson.dumps(r).decode(), links)
                           for (pk, cursor, _, links), r in zip(encoded, records, strict=True)]
        else:
            key, cursor_of, links, links_of, records = (stream.primary_key, stream.cursor_of, page.links,
                                                        page.links_of, page.records)
            if redactor is None:  # one pass over each record while it is in the CPU cache: a page is larger than that
                encoded = [encode_record(pk := str(r[key]), cursor_of(r), r, links_of(r) if links_of else links.get(pk))
                           for r in records]
            else:
                keys = [(str(r[key]), cursor_of(r)) for r in records]  # before redaction can touch them
                counts = redactor.redact_records(stream.name, records) if records else {}
                encoded = [encode_record(pk, cursor, r, links_of(r) if links_of else links.get(pk))
                           for (pk, cursor), r in zip(keys, records, strict=True)]
        if spec.tally:
            ahead["rows"] = ahead.get("rows", 0) + len(encoded)
            ahead["deleted"] = ahead.get("deleted", 0) + len(page.tombstones)
            ahead["pages"] = ahead.get("pages", 0) + 1
        if page.position is not None:
            ahead["position"] = page.position.to_json()
        new_state = (spec.owner, spec.key, dict(ahead)) if page.position is not None or spec.tally else None
        page.records, page.links, page.encoded = [], {}, None  # consumed: let them go before the next page is read
        return PageWrite(stream.dataset, tombstones=page.tombstones, edges=page.edges, quarantined=page.quarantined,
                         redaction_counts=counts, state=new_state, encoded=encoded, size=len(encoded))

    def _commit(self, spec: StreamPass, write: PageWrite, stored: Future[UpsertCounts], is_page: bool,
                result: StreamResult) -> None:
        """Wait until the page (or the pass's end) is committed, then account for it."""
        written = stored.result()
        if write.state is not None:
            spec.state.clear()
            spec.state.update(write.state[2])
        result.pages += is_page
        result.rows += write.size
        result.counts.add(written)
        result.quarantined += write.quarantined
        self.on_progress(result)


__all__ = ["Engine", "RunSummary", "Stop", "StreamPass", "StreamResult", "plan_window"]
