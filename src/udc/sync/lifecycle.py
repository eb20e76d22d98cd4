"""One run of a pipeline, whatever its kind — an incremental cycle, a historical pass, a backfill or a historical
range: the source built for it, its row in the runs table, its redactor, its summary, and the end every kind shares
(call statistics, the source's notes, quarantined records and the error as warnings, the final status recorded,
the source closed), however the run ends."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from functools import cached_property
from types import TracebackType
from typing import Any

from udc.config import Config
from udc.errors import ConfigError, UdcError
from udc.redact import Redactor
from udc.secrets import scrub
from udc.sources import build_source
from udc.sources.base import Directory, DirectoryUnreadable, Source, Stream
from udc.store import Store
from udc.sync.pump import StreamResult

log = logging.getLogger("udc.sync")


@dataclass
class RunSummary:
    run_id: int
    pipeline: str
    mode: str
    status: str  # running, succeeded, stopped (checkpointed), failed
    streams: list[StreamResult]
    calls: int = 0
    retries: int = 0
    bytes: int = 0
    seconds: float = 0.0
    http_statuses: dict[str, int] = field(default_factory=dict)  # responses per HTTP status
    rate_wait_seconds: float = 0.0  # time spent waiting for the connector's rate budget
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Run:
    """`with Run(config, store, "p", "incremental") as run:` — set `run.summary.streams` and `.status` inside.

    The run is recorded once `streams()` has its streams: a pipeline the source refuses (a table or field it does not
    have: a ConfigError) records no run, as any refused input writes nothing."""

    def __init__(self, config: Config, store: Store, pipeline_name: str, kind: str) -> None:
        self.config, self.store, self.pipeline_name = config, store, pipeline_name
        self.pipeline = config.pipeline(pipeline_name)
        self.summary = RunSummary(0, pipeline_name, kind, "running", [])

    def __enter__(self) -> Run:
        self.source: Source = build_source(self.config, self.pipeline_name)
        for key, url in self.config.connector(self.pipeline.connector).cleartext_urls().items():
            # allowed by allow_insecure_http (else the config is refused): said on every run, and in its summary
            said = (f"{self.pipeline.connector}: {key} {url} is plain http:// (allow_insecure_http: true): "
                    "credentials and records cross the network in cleartext; use https:// outside a lab")
            log.warning("%s", said)
            self.summary.warnings.append(said)
        self._started = time.monotonic()
        return self

    @property
    def run_id(self) -> int:
        return self.summary.run_id

    def streams(self) -> list[Stream]:
        """The pipeline's streams, checked against the source before any data is read; the run begins here."""
        try:
            streams = self.source.streams()
        except ConfigError:
            raise
        except BaseException:  # the source failed (401, DNS...): a failed run, in the history
            self._begin()
            raise
        self._begin()
        return streams

    def _begin(self) -> None:
        self.summary.run_id = self.store.begin_run(self.pipeline_name, self.summary.mode)

    @cached_property
    def redactor(self) -> Redactor | None:
        if not self.pipeline.redaction.enabled:
            return None
        # the store remembers, as keyed digests, the names of people synced in earlier runs
        redactor = Redactor(self.pipeline.redaction, self.pipeline.type, memory=self.store)
        if self.pipeline.redaction.directory and isinstance(self.source, Directory):
            # the people the source knows, read before any record is redacted (even when no user table is synced)
            try:
                learned = redactor.learn_directory(self.source.people())
            except DirectoryUnreadable as exc:
                self.summary.warnings.append(str(exc))
            else:
                log.info("%s: redaction directory: %d people, %d logins, %d service accounts", self.pipeline_name,
                         learned["people"], learned["logins"], learned["machines"])
        return redactor

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        summary = self.summary
        try:
            if not summary.run_id:  # refused before it began: nothing to record
                return
            if exc is not None:
                summary.status = "failed"
                said = str(exc) if isinstance(exc, UdcError) else f"{type(exc).__name__}: {exc}"
                summary.warnings.append(scrub(said))
            elif summary.status == "running":
                summary.status = "failed"
            summary.warnings += self.source.notes
            stats = self.source.stats
            summary.calls, summary.retries, summary.bytes = stats.calls, stats.retries, stats.bytes
            summary.http_statuses, summary.rate_wait_seconds = dict(stats.statuses), round(stats.waited, 3)
            summary.seconds = round(time.monotonic() - self._started, 3)
            for result in summary.streams:
                summary.warnings += [f"{result.dataset} {pk}: {reason}" for pk, reason in result.quarantined]
            self.store.finish_run(summary.run_id, summary.status, summary.to_json())
        finally:
            self.source.close()
