"""The sync engine: one historical pass or incremental cycle of a pipeline, every stream through the page pump.

A historical pipeline with an `end_date` runs as a one-time backfill of [start_date, end_date) in the chunk ledger
(see `udc.sync.backfill`). Which window each stream reads is planned in `udc.sync.windows`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from udc.config import Config
from udc.sources.base import Census, Reconciles, Stream
from udc.store import Store
from udc.sync.backfill import run_historical_range
from udc.sync.census import census_due, run_census
from udc.sync.lifecycle import Run, RunSummary
from udc.sync.pump import ProgressHook, Pump, Stop, StreamResult
from udc.sync.windows import cycle_key, cycle_pass
from udc.timeutil import utcnow


class Engine:
    def __init__(self, config: Config, store: Store, *, stop: Stop | None = None,
                 on_progress: ProgressHook | None = None, workers: int = 4, confirm_deletes: bool = False) -> None:
        self.config, self.store = config, store
        self.confirm_deletes = confirm_deletes  # a deletion census the false-delete guard refused may go ahead
        self.stop = stop if stop is not None else Stop()  # an unset Stop is falsy: `or` would drop it
        self.on_progress = on_progress or (lambda result: None)
        self.workers = workers

    def sync(self, pipeline_name: str, now: datetime | None = None) -> RunSummary:
        """One historical pass or incremental cycle. Two syncs of one pipeline never overlap: the second raises
        LockHeld (the lock is an flock, so a killed holder never leaves it stale)."""
        pipeline = self.config.pipeline(pipeline_name)
        with self.store.lock(f"pipeline-{pipeline_name}"), self.store.writer():
            if pipeline.mode == "historical" and pipeline.end_date is not None:
                return run_historical_range(self.config, self.store, pipeline_name, stop=self.stop,
                                            on_progress=self.on_progress, workers=self.workers)
            return self._sync(pipeline_name, now or utcnow())

    def _sync(self, pipeline_name: str, now: datetime) -> RunSummary:
        with Run(self.config, self.store, pipeline_name, self.config.pipeline(pipeline_name).mode) as run:
            summary = run.summary
            streams = run.streams()
            summary.streams = [StreamResult(s.name, s.dataset) for s in streams]
            census = None
            if run.pipeline.mode == "incremental" and isinstance(run.source, Census) and \
                    census_due(self.store, pipeline_name, run.source, now):
                census = self._census(run, run.source, now)
            pump = Pump(self.store, self.on_progress)
            # with redaction on, people tables (sys_user, Contact, User) go first: their names must be known before
            # the tables that mention them are redacted
            first = [run.redactor is not None and run.redactor.is_people_stream(s.name) for s in streams]
            with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(streams)))) as pool:
                for phase in (True, False):
                    batch = [(s, r) for s, r, f in zip(streams, summary.streams, first, strict=True) if f is phase]
                    if self.stop:  # stopped while the people tables were read
                        for _, result in batch:
                            result.status = "stopped"
                        continue
                    futures = [pool.submit(self._run_stream, pump, run, s, r, now) for s, r in batch]
                    for future in futures:
                        future.result()
            if census is not None:
                summary.streams.insert(0, census)
            states = {r.status for r in summary.streams}
            summary.status = "failed" if "failed" in states else "stopped" if "stopped" in states else "succeeded"
        return summary

    def _census(self, run: Run, source: Census, now: datetime) -> StreamResult:
        """The deletion census, before the streams: its result is a line of the summary, a refusal a warning."""
        dataset = source.census_dataset() or ""
        result = StreamResult("deletion census", dataset, status="done")
        census = run_census(source, self.store, run.pipeline_name, run.run_id, now, self.confirm_deletes)
        result.counts.deleted, result.rows = census.deleted, census.listed
        if census.refused and not self.confirm_deletes:
            result.status = "refused"
            run.summary.warnings += [f"deletion census refused, nothing deleted: {reason}; if these issues really "
                                     f"were deleted, run `udc sync --pipeline {run.pipeline_name} --confirm-deletes`"
                                     for reason in census.refused]
        return result

    def _run_stream(self, pump: Pump, run: Run, stream: Stream, result: StreamResult, now: datetime) -> None:
        key = cycle_key(run.pipeline.mode, stream.name)
        spec = cycle_pass(run.pipeline_name, key, run.pipeline, self.store.get_state(run.pipeline_name, key), now)
        if spec.window is not None and isinstance(stream, Reconciles):
            stream.remember(self.store.live_keys(stream.dataset, stream.parent_field))
        pump.run_pass(stream, spec, result, run.run_id, run.redactor, lambda: bool(self.stop))


__all__ = ["Engine"]
