"""The page pump: one stream's read of one window, moved into the store page by page.

Every mode (an incremental cycle, a historical pass, a backfill chunk) reads through `Pump.run_pass`: each page is
stored in one transaction together with the pass's state, so progress never runs ahead of the data (invariant 1 in
docs/ARCHITECTURE.md), and the pass's end commits with its last page.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import orjson

from udc.errors import QuotaExhausted, UdcError
from udc.records import Page, Position, Window
from udc.redact import Redactor
from udc.secrets import scrub
from udc.sources.base import Stream
from udc.store import PageWrite, Store, UpsertCounts, encode_record
from udc.timeutil import cursor_str

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


class Pump:
    """Moves pages from streams into one store; shared by every pass of a run (each runs in its own thread)."""

    def __init__(self, store: Store, on_progress: ProgressHook | None = None) -> None:
        self.store = store
        self.on_progress = on_progress or (lambda result: None)

    def run_pass(self, stream: Stream, spec: StreamPass, result: StreamResult, run_id: int, redactor: Redactor | None,
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
        except UdcError as exc:  # a StoreError too: the store's own words for what failed, and the fix
            result.status, result.error, error = "failed", scrub(str(exc)), exc
            log.error("%s: %s", stream.dataset, result.error)
        except Exception as exc:  # an unexpected bug must not leave secrets or a half-written page behind
            result.status, result.error, error = "failed", scrub(f"{type(exc).__name__}: {exc}"), exc
            log.exception("%s failed", stream.dataset)
        finally:
            result.seconds = round(result.seconds + time.monotonic() - started, 3)
            self.on_progress(result)
        return error

    def _store_pages(self, spec: StreamPass, stream: Stream, window: Window, result: StreamResult, run_id: int,
                     redactor: Redactor | None, should_stop: Callable[[], bool]) -> bool:
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
    def _prepare(spec: StreamPass, stream: Stream, page: Page, redactor: Redactor | None, ahead: dict[str, Any]
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
