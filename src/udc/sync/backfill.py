"""Date-range backfills: re-pull [start, end) of an existing pipeline in chunks, from a durable chunk ledger.

The range is cut into chunks (a day by default) recorded in the store's `chunks` table. A runner claims chunks from
the ledger (`Store.claim_chunk`) under a lease it renews while it works, and runs N at a time in a thread pool, each
reading every stream of the pipeline (or the chosen tables) over its window through the engine's own page loop.
Several runners — threads, processes, Celery workers on other hosts — can share one backfill this way: a runner that
dies (kill -9) stops renewing, its lease runs out, and another runner claims the chunk and continues it.

A chunk's per-stream position — with its row, tombstone and page tallies — lives in the
state row `backfill:<id>` / `<chunk>:<stream>` and commits in the same transaction as the page's records
(invariant 1), so a chunk that was running in a killed process is simply run again and continues after its last
stored page. A chunk's status only becomes `done` after every stream's final state has committed.

A backfill never touches the incremental cursor (invariant 5): its positions live under their own owner, and the
newest-wins upsert (invariant 2) keeps an older copy it reads from replacing a newer one the incremental sync stored.

With an off-peak window, chunks start only while the window is open; running chunks stop after their current page
when it closes (their progress is kept, the attempt is not counted) and the backfill waits for the next opening.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from udc.config import Config
from udc.errors import ConfigError, LockHeld, QuotaExhausted, RetryBudgetExceeded, UdcError
from udc.procs import claimant_gone, pid_alive
from udc.redact import Redactor
from udc.secrets import scrub
from udc.sources.base import Stream
from udc.store import Lock, Store, lease_stamp
from udc.sync.lifecycle import Run, RunSummary
from udc.sync.pump import ProgressHook, Pump, Stop, StreamResult
from udc.sync.windows import DEFAULT_CHUNK, OffPeak, chunk_pass, historical_chunk, split_range
from udc.timeutil import cursor_str, parse_time, utcnow

log = logging.getLogger("udc.backfill")

DEFAULT_PARALLEL = 4
DEFAULT_ATTEMPTS = 3
DEFAULT_LEASE = 60.0  # seconds a claimed chunk stays a worker's without renewal (renewed every third of it)
POLL = 0.1  # seconds between looks at the ledger while other runners hold the last chunks: a runner that waits
# for them ends this soon after the last one settles (a Celery run ends when its slowest chunk task does)
UNFINISHED = ("queued", "running", "waiting", "stopped")  # what `udc run` picks up
Clock = Callable[[], datetime]


def state_owner(backfill_id: int) -> str:
    return f"backfill:{backfill_id}"


def chunk_key(seq: int, stream: Stream | str) -> str:
    return f"{seq}:{stream if isinstance(stream, str) else stream.name}"


def table_of(stream: Stream) -> str:
    return stream.dataset.split("/", 1)[-1]


def lock_for(store: Store, backfill_id: int) -> Lock:
    return store.lock(f"backfill-{backfill_id}")


def worker_name() -> str:
    """This process as a chunk's claimant: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def create_backfill(config: Config, store: Store, pipeline: str, start: datetime | None, end: datetime, *,
                    tables: list[str] | None = None, chunk: timedelta = DEFAULT_CHUNK,
                    parallel: int = DEFAULT_PARALLEL, window: OffPeak | None = None,
                    max_attempts: int = DEFAULT_ATTEMPTS, kind: str = "backfill") -> int:
    """Record a backfill of [start, end) and its chunks in the ledger (status `queued`); returns its id."""
    pieces = check_backfill(config, pipeline, start, end, tables=tables, chunk=chunk, parallel=parallel,
                            max_attempts=max_attempts)
    return store.create_backfill({
        "pipeline": pipeline, "kind": kind, "tables": list(tables or []),
        "range_start": cursor_str(start) if start else None, "range_end": cursor_str(end),
        "chunk_seconds": int(chunk.total_seconds()), "parallel": parallel, "max_attempts": max_attempts,
        "offpeak": f"{window.start:%H:%M}-{window.end:%H:%M}" if window else None,
        "tz": window.tz.key if window else None,
    }, [(cursor_str(a) if a else None, cursor_str(b)) for a, b in pieces])


def check_backfill(config: Config, pipeline: str, start: datetime | None, end: datetime, *,
                   tables: list[str] | None = None, chunk: timedelta = DEFAULT_CHUNK, parallel: int = DEFAULT_PARALLEL,
                   max_attempts: int = DEFAULT_ATTEMPTS) -> list[tuple[datetime | None, datetime]]:
    """A backfill's settings checked without the store (ConfigError when one is wrong); returns its chunks."""
    spec = config.pipeline(pipeline)
    if parallel < 1 or parallel > 64:
        raise ConfigError(f"--parallel {parallel} is out of range", "run 1 to 64 chunks at a time")
    if max_attempts < 1:
        raise ConfigError("attempts must be at least 1", "use --attempts 3, for example")
    known = [t.name for t in spec.tables]
    unknown = [t for t in tables or [] if known and t not in known]
    if unknown:
        raise ConfigError(f"pipeline '{pipeline}' does not sync {', '.join(unknown)}",
                          f"pick from its tables: {', '.join(known)}")
    return split_range(start, end, chunk)


@dataclass
class ChunkOutcome:
    seq: int
    status: str  # done, failed, paused (window closed or stop), halted (quota / retry budget)
    results: list[StreamResult] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0


@dataclass
class BackfillReport:
    backfill_id: int
    status: str
    summary: RunSummary
    chunks_done: int = 0
    chunks_total: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""


class BackfillRunner:
    """Runs one backfill from the ledger until every chunk is done, or failed for good, or it is stopped.

    `clock` and `sleep` are injectable so off-peak behaviour is testable without waiting: `sleep(seconds)` must
    return early when `stop` is set (the default waits on the stop event). `exclusive` (the local executor) holds the
    backfill's lock, so a second `udc backfill --resume` is refused; Celery chunk tasks share a backfill without it.
    `lease`: seconds a claimed chunk stays this runner's without renewal.
    """

    def __init__(self, config: Config, store: Store, backfill_id: int, *, stop: Stop | None = None,
                 clock: Clock = utcnow, sleep: Callable[[float], None] | None = None,
                 on_chunk: Callable[[ChunkOutcome, dict[str, Any]], None] | None = None,
                 on_progress: ProgressHook | None = None, retry_delay: float = 5.0, parallel: int | None = None,
                 retry_failed: bool = False, lease: float = DEFAULT_LEASE, exclusive: bool = True) -> None:
        rows = store.backfills(backfill_id=backfill_id)
        if not rows:
            raise ConfigError(f"there is no backfill #{backfill_id}", "list them with `udc backfill status`")
        self.row = rows[0]
        self.config, self.store, self.id = config, store, backfill_id
        self.pipeline = self.row["pipeline"]
        self.stop = stop if stop is not None else Stop()  # an unset Stop is falsy: `or` would drop it
        self.clock = clock
        self.sleep = sleep or self._wait
        self.on_chunk = on_chunk or (lambda outcome, chunk: None)
        self.parallel = parallel or int(self.row["parallel"])
        self.retry_delay, self.retry_failed = retry_delay, retry_failed
        self.window = OffPeak.parse(self.row["offpeak"], self.row["tz"] or "UTC") if self.row["offpeak"] else None
        self._on_progress = on_progress or (lambda result: None)
        self.pump = Pump(store, self._progress)
        self._totals: dict[str, StreamResult] = {}
        self._live: dict[str, dict[int, StreamResult]] = {}
        self._started = time.monotonic()
        self._range = (self.row["range_start"], self.row["range_end"])
        self._halt = ""  # set when the source says stop (quota, retry budget): every chunk stops checkpointed
        self._lock = threading.Lock()
        self.worker, self.lease, self.exclusive = worker_name(), lease, exclusive
        self._lost: set[int] = set()  # chunks whose lease another runner took over: stop them, record nothing

    # -- the run --------------------------------------------------------------------------------------------------
    def run(self) -> BackfillReport:
        if self.row["status"] == "done":
            return self._report("done", RunSummary(0, self.pipeline, self.row["kind"], "succeeded", []), "")
        lock = lock_for(self.store, self.id) if self.exclusive else None
        if lock is not None and not lock.acquire():
            holder = lock.holder() or {}
            raise LockHeld(f"backfill #{self.id} is already running in process {holder.get('pid', '?')}",
                           "watch it with `udc backfill status`; if that process is gone, run --resume again")
        status, error = "failed", ""
        try:
            with Run(self.config, self.store, self.pipeline, self.row["kind"]) as run:
                summary = run.summary
                self._prepare()
                self.store.update_backfill(self.id, status="running", pid=os.getpid(), error=None,
                                           started_at=utcnow().isoformat(), finished_at=None)
                streams = self._select(run.streams())
                self._totals = {s.name: StreamResult(s.name, s.dataset) for s in streams}
                summary.streams = list(self._totals.values())
                with self.store.writer():
                    status, error = self._dispatch(streams, run.run_id, run.redactor)
                for total in summary.streams:
                    if total.status != "failed":
                        total.status = "done" if status in ("done", "failed") else "stopped"
                summary.status = {"done": "succeeded"}.get(status, status)
                if error:
                    summary.warnings.append(error)
                return self._report(status, summary, error)
        except UdcError as exc:  # the source could not be built or read, the store failed...: in the ledger too
            status, error = "failed", scrub(exc.message)
            raise
        except BaseException as exc:
            status, error = "failed", scrub(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            if status != "running":  # "running": other runners still hold chunks; the last one out records the end
                self.store.update_backfill(self.id, status=status, error=error or None, pid=None,
                                           finished_at=utcnow().isoformat() if status == "done" else None)
            if lock is not None:
                lock.release()

    def _wait(self, seconds: float) -> None:
        self.stop.event.wait(max(0.0, seconds))

    def _progress(self, result: StreamResult) -> None:
        """Report a stream's totals over this run (settled chunks plus the ones in flight) to `on_progress`."""
        with self._lock:
            self._live.setdefault(result.stream, {})[id(result)] = result
            total = self._totals.get(result.stream)
            if total is None:
                return
            view = StreamResult(result.stream, result.dataset, "running", rows=total.rows, pages=total.pages,
                                window=self._range, seconds=round(time.monotonic() - self._started, 3))
            view.counts.add(total.counts)
            for live in self._live[result.stream].values():
                view.rows += live.rows
                view.pages += live.pages
                view.counts.add(live.counts)
        self._on_progress(view)

    def _prepare(self) -> None:
        """Chunks left `running` by a process of this host that is gone have their lease ended at once, so the next
        claim takes them over (an abandoned attempt, counted there: see `_abandoned`); chunks of a live worker
        elsewhere are left to it (and to their lease). Chunks this very process left running (the local executor
        holds the lock: a run before this one ended by an exception) go back to pending, that attempt not counted.
        With `retry_failed` (`udc backfill --resume`), failed chunks and those of dead processes start afresh."""
        for chunk in self.store.chunks(self.id):
            if chunk["status"] == "running" and self.exclusive and chunk["worker"] == self.worker:
                self._set(chunk, status="pending", pid=None, worker=None, lease_until=None,
                          attempts_delta=-1 if chunk["attempts"] else 0)
            elif chunk["status"] == "running" and self.retry_failed and claimant_gone(chunk["worker"]):
                self._set(chunk, status="pending", pid=None, worker=None, lease_until=None, not_before=None,
                          attempts_delta=-chunk["attempts"])
            elif chunk["status"] == "running" and chunk["lease_until"] and claimant_gone(chunk["worker"]):
                log.info("backfill #%d chunk %d was running in process %s, which is gone: running it again",
                         self.id, chunk["seq"], chunk["worker"] or chunk["pid"])
                self._set(chunk, lease_until=None)
            elif chunk["status"] == "failed" and self.retry_failed:
                self._set(chunk, status="pending", attempts_delta=-chunk["attempts"], not_before=None)

    def _abandoned(self, chunk: dict[str, Any]) -> bool:
        """Record that the worker which held `chunk` before this claim stopped renewing its lease — it died (kill -9,
        out of memory) or hung — as a failed attempt. After `max_attempts` of them the chunk is failed for good
        (True): a chunk that kills every worker running it is not handed out forever."""
        attempt, dead = chunk["attempts"] - 1, chunk["abandoned_by"]
        entry = {"attempt": attempt, "at": utcnow().isoformat(), "worker": dead, "abandoned": True,
                 "error": f"abandoned by worker {dead}: it stopped renewing its lease (killed, out of memory, or hung)"}
        log.warning("backfill #%d chunk %d: attempt %d was abandoned by worker %s (its lease ran out)", self.id,
                    chunk["seq"], attempt, dead)
        if attempt < int(self.row["max_attempts"]):
            self._set(chunk, errors=[*chunk["errors"], entry][-10:])
            return False
        errors = [*chunk["errors"], entry]
        run = []  # the abandoned attempts in a row up to this one
        for item in reversed(errors):
            if not item.get("abandoned"):
                break
            run.append(str(item.get("worker")))
        workers = ", ".join(dict.fromkeys(reversed(run)))
        entry["error"] = (
            f"abandoned {len(run)} time(s) by workers that died or hung while running it ({workers}): something "
            f"in {(chunk['chunk_start'] or 'the start')[:16]} → {chunk['chunk_end'][:16]} kills the worker "
            f"(look for the out-of-memory killer in `dmesg` and for a crash in those workers' logs); give the workers "
            f"more memory or re-run the range in smaller chunks (--chunk 6h), then `udc backfill --resume {self.id}` "
            f"runs it again")
        self._set(chunk, status="failed", errors=errors[-10:], attempts_delta=-1, pid=None, lease_until=None,
                  finished_at=utcnow().isoformat())
        log.error("backfill #%d chunk %d failed: %s", self.id, chunk["seq"], entry["error"])
        self.on_chunk(ChunkOutcome(chunk["seq"], "failed", error=entry["error"]), chunk)
        return True

    def _select(self, streams: list[Stream]) -> list[Stream]:
        wanted = self.row["tables"]
        if not wanted:
            return streams
        chosen = [s for s in streams if s.name in wanted or table_of(s) in wanted]
        missing = [t for t in wanted if not any(s.name == t or table_of(s) == t for s in streams)]
        if missing:
            raise ConfigError(f"pipeline '{self.pipeline}' has no table {', '.join(missing)}",
                              f"pick from: {', '.join(sorted({table_of(s) for s in streams}))}")
        return chosen

    def _dispatch(self, streams: list[Stream], run_id: int, redactor: Redactor | None) -> tuple[str, str]:
        """Claim chunks while there are free slots, run them, settle them; renew the leases of those in hand. With
        nothing in hand, wait for a retry delay, the off-peak window, or chunks other runners hold (claiming them
        when their lease runs out); return once every chunk is settled or the run is stopped."""
        in_flight: dict[Future[ChunkOutcome], dict[str, Any]] = {}
        active_base, active_from = float(self.row["active_seconds"] or 0), time.monotonic()
        paused_for = reported = 0.0
        renewed = time.monotonic()

        def report_active(wait: bool = False) -> None:  # for `udc backfill status`: rate and time left
            nonlocal reported
            reported = time.monotonic()
            active = active_base + reported - active_from - paused_for
            self.store.update_backfill(self.id, wait=wait, active_seconds=round(active, 3))

        with ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix=f"backfill-{self.id}") as pool:
            while True:
                now = self.clock()
                open_now = self.window is None or self.window.contains(now)
                while not (self.stop or self._halt) and open_now and len(in_flight) < self.parallel:
                    # newest first (the store's order): windows of an update cursor fill up towards now (every
                    # record sits at its last update), so the heaviest chunks start first and the light ones even
                    # out the end
                    chunk = self.store.claim_chunk(self.id, self.worker, self.lease)
                    if chunk is None:
                        break
                    if chunk["abandoned_by"] and self._abandoned(chunk):
                        continue
                    in_flight[pool.submit(self._run_chunk, chunk, streams, run_id, redactor)] = chunk
                if not in_flight:
                    chunks = self.store.chunks(self.id)
                    pending = [c for c in chunks if c["status"] == "pending"]
                    elsewhere = [c for c in chunks if c["status"] == "running"]  # held by other runners
                    if self.stop or self._halt or not (pending or elsewhere):
                        break
                    if not open_now:
                        assert self.window is not None
                        opens = self.window.next_open(now)
                        self.store.update_backfill(self.id, status="waiting")
                        log.info("backfill #%d: outside %s, waiting until %s", self.id, self.window, opens)
                        before = time.monotonic()
                        self.sleep((opens - now).total_seconds())
                        paused_for += time.monotonic() - before
                        if not self.stop:
                            self.store.update_backfill(self.id, status="running")
                        continue
                    # a failed chunk waits out its retry delay; another runner's chunk is done, or claimable
                    # once its lease runs out (polled: it may finish sooner)
                    wall = utcnow()
                    moments = [parse_time(c["not_before"]) for c in pending if c["not_before"]]
                    moments += [parse_time(c["lease_until"]) for c in elsewhere if c["lease_until"]]
                    soonest = min(moments, default=wall)
                    self.sleep(min(max(0.0, (soonest - wall).total_seconds()) + 0.01, POLL if elsewhere else 3600))
                    continue
                timeout = self.lease / 3
                delayed = [parse_time(c["not_before"]) for c in self.store.chunks(self.id)
                           if c["status"] == "pending" and c["not_before"]] if len(in_flight) < self.parallel else []
                if delayed:  # wake up when a failed chunk may be retried
                    timeout = min(timeout, max(0.0, (min(delayed) - utcnow()).total_seconds()))
                finished, _ = wait(list(in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
                for future in finished:
                    chunk = in_flight.pop(future)
                    self._settle(chunk, future.result(), streams)
                if in_flight and time.monotonic() - renewed >= self.lease / 3:
                    renewed = time.monotonic()
                    self._renew([c["seq"] for c in in_flight.values()])
                if time.monotonic() - reported >= 1:
                    report_active()
        report_active(wait=True)  # after every ledger write before it
        chunks = self.store.chunks(self.id)
        left = [c for c in chunks if c["status"] != "done"]
        failed = [c for c in left if c["status"] == "failed"]
        if not left:
            return "done", ""
        if self._halt:
            return "stopped", self._halt
        if self.stop:
            return "stopped", ""
        if any(c["status"] == "running" for c in left):
            return "running", ""
        return "failed", f"{len(failed)} chunk(s) failed after {self.row['max_attempts']} attempts; " \
                         f"fix the cause, then `udc backfill --resume {self.id}` retries them"

    def _renew(self, seqs: list[int]) -> None:
        """Keep the leases of the chunks in hand; one another runner took over (this one stalled past its lease)
        stops after its current page and records nothing: its pages and positions are the same either way."""
        lost = set(seqs) - set(self.store.renew_chunks(self.id, self.worker, seqs, self.lease))
        if lost:
            log.warning("backfill #%d: chunk(s) %s were taken over by another worker after their lease ran out",
                        self.id, ", ".join(map(str, sorted(lost))))
            with self._lock:
                self._lost |= lost

    def _should_stop(self) -> bool:
        if self.stop or self._halt:
            return True
        return self.window is not None and not self.window.contains(self.clock())

    def _run_chunk(self, chunk: dict[str, Any], streams: list[Stream], run_id: int, redactor: Redactor | None
                   ) -> ChunkOutcome:
        started = time.monotonic()
        outcome = ChunkOutcome(chunk["seq"], "done")
        owner = state_owner(self.id)
        start = parse_time(chunk["chunk_start"]) if chunk["chunk_start"] else None
        end = parse_time(chunk["chunk_end"])
        seq = chunk["seq"]

        def should_stop() -> bool:
            return self._should_stop() or seq in self._lost

        for stream in streams:
            key = chunk_key(seq, stream)
            result = StreamResult(stream.name, stream.dataset)
            outcome.results.append(result)
            spec = chunk_pass(owner, key, start, end, self.store.get_state(owner, key))
            if spec is None:
                continue
            error = self.pump.run_pass(stream, spec, result, run_id, redactor, should_stop)
            if isinstance(error, QuotaExhausted | RetryBudgetExceeded):
                with self._lock:
                    self._halt = self._halt or result.error
                outcome.status, outcome.error = "halted", result.error
                break
            if result.status == "failed":
                outcome.status, outcome.error = "failed", f"{stream.name}: {result.error}"
                break
            if result.status == "stopped":
                outcome.status = "paused"
                break
        outcome.seconds = time.monotonic() - started
        return outcome

    def _settle(self, chunk: dict[str, Any], outcome: ChunkOutcome, streams: list[Stream]) -> None:
        with self._lock:
            for result in outcome.results:
                self._live.get(result.stream, {}).pop(id(result), None)
        if chunk["seq"] in self._lost:  # another runner has it now: its ledger row is that runner's to settle
            return
        for result in outcome.results:
            total = self._totals[result.stream]
            total.rows += result.rows
            total.pages += result.pages
            total.counts.add(result.counts)
            total.quarantined += result.quarantined
            total.seconds = round(total.seconds + result.seconds, 3)
            total.status = "failed" if result.status == "failed" else total.status
        tallies = self._tallies(chunk["seq"], streams)
        seconds = round(float(chunk["seconds"] or 0) + outcome.seconds, 3)
        # `worker` stays: who ran the chunk last
        common: dict[str, Any] = {"rows": tallies[0], "pages": tallies[1], "pid": None, "lease_until": None,
                                  "seconds": seconds}
        if outcome.status == "done":
            self._set(chunk, status="done", finished_at=utcnow().isoformat(), not_before=None, **common)
        elif outcome.status in ("paused", "halted"):  # not the chunk's fault: the attempt does not count
            self._set(chunk, status="pending", attempts_delta=-1, **common)
        else:
            errors = [*chunk["errors"], {"attempt": chunk["attempts"], "at": utcnow().isoformat(),
                                         "error": outcome.error}][-10:]
            if chunk["attempts"] >= int(self.row["max_attempts"]):
                self._set(chunk, status="failed", errors=errors, finished_at=utcnow().isoformat(), **common)
            else:
                retry_at = utcnow() + timedelta(seconds=self.retry_delay * chunk["attempts"])
                self._set(chunk, status="pending", errors=errors, not_before=retry_at.isoformat(), **common)
            log.warning("backfill #%d chunk %d attempt %d failed: %s", self.id, chunk["seq"], chunk["attempts"],
                        outcome.error)
        self.on_chunk(outcome, chunk)

    def _tallies(self, seq: int, streams: list[Stream]) -> tuple[dict[str, dict[str, int]], int]:
        """Rows and tombstones per table, and pages, that chunk `seq` has stored (from its committed states): only
        this chunk's state rows are read, not every chunk's."""
        owner = state_owner(self.id)
        states = ((s.name, self.store.get_state(owner, chunk_key(seq, s))) for s in streams)
        return _sum_tallies((name, state) for name, state in states if state is not None)

    def _set(self, chunk: dict[str, Any], **values: Any) -> None:
        # waits: the next claim, here or in another runner, must see it
        self.store.update_chunk(self.id, chunk["seq"], **values)
        delta = values.pop("attempts_delta", 0)
        chunk.update(values)
        chunk["attempts"] += delta

    def _report(self, status: str, summary: RunSummary, error: str) -> BackfillReport:
        chunks = self.store.chunks(self.id)
        failed = [c for c in chunks if c["status"] == "failed"]
        return BackfillReport(self.id, status, summary, sum(c["status"] == "done" for c in chunks), len(chunks),
                              failed, error)


def _table_from_key(stream_name: str) -> str:
    """`incident.deletes` → `incident`: a delete stream's tombstones belong to its table."""
    return stream_name.split(".", 1)[0]


def _sum_tallies(states: Iterable[tuple[str, dict[str, Any]]]) -> tuple[dict[str, dict[str, int]], int]:
    """Rows and tombstones per table, and pages, summed over (stream name, committed chunk state) pairs."""
    tables: dict[str, dict[str, int]] = {}
    pages = 0
    for stream_name, value in states:
        entry = tables.setdefault(_table_from_key(stream_name), {"rows": 0, "deleted": 0})
        entry["rows"] += int(value.get("rows", 0))
        entry["deleted"] += int(value.get("deleted", 0))
        pages += int(value.get("pages", 0))
    return tables, pages


# -- monitoring ---------------------------------------------------------------------------------------------------
def backfill_status(store: Store, backfill_id: int, now: datetime | None = None) -> dict[str, Any]:
    """Everything `udc backfill status ID` shows: chunk completion, rows per table (including the partial progress
    of running chunks, read from their committed state), failed chunks with their errors, rate and ETA."""
    rows = store.backfills(backfill_id=backfill_id)
    if not rows:
        raise ConfigError(f"there is no backfill #{backfill_id}", "list them with `udc backfill status`")
    item = dict(rows[0])
    chunks = store.chunks(backfill_id)
    tables, pages = _sum_tallies((key.split(":", 1)[1], value)
                                 for key, value in store.all_state(state_owner(backfill_id)).items())
    by_status: dict[str, int] = {}
    for chunk in chunks:
        by_status[chunk["status"]] = by_status.get(chunk["status"], 0) + 1
    done = by_status.get("done", 0)
    leased = lease_stamp(utcnow())
    live = (pid_alive(item["pid"]) and lock_for(store, backfill_id).holder()) or any(  # Celery workers hold no lock
        c["status"] == "running" and (c["lease_until"] or "") > leased and not claimant_gone(c["worker"])
        for c in chunks)
    if item["status"] in ("running", "waiting") and not live:
        item["status"] = "interrupted"  # its process died: `udc backfill --resume ID` (or `udc run`) continues it
    total_rows = sum(t["rows"] + t["deleted"] for t in tables.values())
    rate, eta = backfill_progress(float(item["active_seconds"] or 0), by_status, total_rows)
    item.update({
        "chunks_total": len(chunks), "chunks_done": done, "chunks": by_status, "tables": tables, "pages": pages,
        "rows": total_rows, "rate": rate, "eta_seconds": eta,
        "running": [{"seq": c["seq"], "start": c["chunk_start"], "end": c["chunk_end"], "attempts": c["attempts"],
                     "worker": c["worker"]} for c in chunks if c["status"] == "running"],
        "failed": [{"seq": c["seq"], "start": c["chunk_start"], "end": c["chunk_end"], "attempts": c["attempts"],
                    "errors": c["errors"]} for c in chunks if c["status"] == "failed"],
        "retrying": [{"seq": c["seq"], "attempts": c["attempts"], "errors": c["errors"]}
                     for c in chunks if c["status"] == "pending" and c["errors"]],
    })
    if item["offpeak"]:
        window = OffPeak.parse(item["offpeak"], item["tz"] or "UTC")
        at = now or utcnow()
        item["window_open"] = window.contains(at)
        item["window_next_open"] = window.next_open(at).isoformat()
    return item


def backfill_progress(active: float, by_status: dict[str, int], rows: int) -> tuple[float | None, float | None]:
    """(rows per second, seconds left) of a backfill that has been active `active` seconds, from its chunks per
    status: the time left is the chunks neither done nor failed at the rate chunks have been done."""
    done = by_status.get("done", 0)
    rate = rows / active if active > 0 else None
    chunk_rate = done / active if active > 0 and done else None
    remaining = sum(by_status.values()) - done - by_status.get("failed", 0)
    eta = remaining / chunk_rate if chunk_rate and remaining else (0.0 if not remaining else None)
    return (round(rate, 1) if rate is not None else None), (round(eta, 1) if eta is not None else None)


def list_backfills(store: Store, pipeline: str | None = None, active_only: bool = False) -> list[dict[str, Any]]:
    result = []
    for row in store.backfills(pipeline):
        if active_only and row["status"] in ("done", "failed", "cancelled"):
            continue
        result.append(backfill_status(store, row["id"]))
    return result


# -- historical runs with an end date -----------------------------------------------------------------------------
def run_historical_range(config: Config, store: Store, pipeline_name: str, *, stop: Stop,
                         on_progress: ProgressHook, workers: int) -> RunSummary:
    """A historical pipeline with `end_date` is a one-time backfill of [start_date, end_date): it lives in the
    chunk ledger (kind `historical`), so it resumes after a crash and shows in the same monitoring."""
    pipeline = config.pipeline(pipeline_name)
    assert pipeline.end_date is not None
    start = parse_time(pipeline.start_date) if pipeline.start_date else None
    end = parse_time(pipeline.end_date)
    wanted = (cursor_str(start) if start else None, cursor_str(end))
    backfill_id = next((b["id"] for b in reversed(store.backfills(pipeline_name))
                        if b["kind"] == "historical" and b["status"] != "done"
                        and (b["range_start"], b["range_end"]) == wanted), None)
    if backfill_id is None:
        backfill_id = create_backfill(config, store, pipeline_name, start, end, chunk=historical_chunk(start, end),
                                      parallel=workers, kind="historical")
    runner = BackfillRunner(config, store, backfill_id, stop=stop, on_progress=on_progress, parallel=workers,
                            retry_failed=True)
    return runner.run().summary


__all__ = ["BackfillReport", "BackfillRunner", "ChunkOutcome", "backfill_progress", "backfill_status", "check_backfill",
           "create_backfill", "list_backfills", "run_historical_range"]
