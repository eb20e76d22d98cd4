"""`/metrics`: the store's history in Prometheus's text format.

Counters (records synced, runs by outcome, HTTP responses by status, retries, rate-budget waits, run durations) are
folded from the run history: a finished run never changes, so each is read once and only newer runs are read at the
next scrape. Gauges (last success, cursor lag, chunks by state, quarantined and stored records) are read at each
scrape, a fixed number of grouped queries.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from udc.serve.views import Views
from udc.timeutil import parse_time

FOLD_PAGE = 1000  # runs read per query while catching up with the history


class RunHistory:
    """Totals over every finished run, kept up to date by reading only the runs recorded since the last fold."""

    def __init__(self) -> None:
        self.upto = 0  # every run with an id up to this one is folded
        self.folded: set[int] = set()  # runs above `upto` folded already (finished while an older one runs)
        self.records: Counter[tuple[str, str]] = Counter()  # (pipeline, table)
        self.runs: Counter[tuple[str, str]] = Counter()  # (pipeline, status)
        self.responses: Counter[tuple[str, str]] = Counter()  # (pipeline, HTTP status)
        self.retries: Counter[str] = Counter()
        self.waited: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self.running: Counter[str] = Counter()
        self.lock = threading.Lock()

    def update(self, views: Views) -> None:
        running: Counter[str] = Counter()
        after, blocked = self.upto, False
        while page := views.reader.runs_after(after, FOLD_PAGE):
            for row in page:
                run = views.run_brief(row)  # a run whose process died unfinished is final: `crashed`
                finished = run["status"] != "running"
                if finished and row["id"] not in self.folded:
                    self._fold(row, run["status"])
                    self.folded.add(row["id"])
                if not finished:
                    running[row["pipeline"]] += 1
                    blocked = True
                elif not blocked:
                    self.upto = row["id"]
                    self.folded.discard(row["id"])
            after = page[-1]["id"]
            if len(page) < FOLD_PAGE:
                break
        self.running = running

    def _fold(self, row: dict[str, Any], status: str) -> None:
        pipeline, summary = row["pipeline"], row["summary"] or {}
        self.runs[pipeline, status] += 1
        for stream in summary.get("streams", []):
            self.records[pipeline, stream["stream"].split(".", 1)[0]] += stream.get("rows", 0)
        for code, n in summary.get("http_statuses", {}).items():
            self.responses[pipeline, code] += n
        self.retries[pipeline] += summary.get("retries", 0)
        self.waited[pipeline] += summary.get("rate_wait_seconds", 0.0)
        self.seconds[pipeline] += summary.get("seconds", 0.0)


class StoreCollector(Collector):
    def __init__(self, views: Views) -> None:
        self.views = views
        self.history = RunHistory()

    def collect(self) -> Iterator[Metric]:
        views, history = self.views, self.history
        connectors = {name: spec.connector for name, spec in views.config.pipelines.items()}
        with history.lock:
            history.update(views)
            yield from self._history(connectors)
        yield from self._gauges(connectors)

    def _history(self, connectors: dict[str, str]) -> Iterator[Metric]:
        h = self.history
        records = CounterMetricFamily("udc_records_synced", "Records read and stored, per pipeline and table",
                                      labels=["pipeline", "table"])
        for (pipeline, table), n in sorted(h.records.items()):
            records.add_metric([pipeline, table], n)
        runs = CounterMetricFamily("udc_runs", "Finished runs per pipeline and outcome", labels=["pipeline", "status"])
        for (pipeline, status), n in sorted(h.runs.items()):
            runs.add_metric([pipeline, status], n)
        running = GaugeMetricFamily("udc_runs_running", "Runs in progress", labels=["pipeline"])
        for pipeline, n in sorted(h.running.items()):
            running.add_metric([pipeline], n)
        duration = SummaryMetricFamily("udc_run_duration_seconds", "Time taken by finished runs",
                                       labels=["pipeline"])
        for pipeline in sorted({p for p, _ in h.runs}):
            count = sum(n for (p, _), n in h.runs.items() if p == pipeline)
            duration.add_metric([pipeline], count_value=count, sum_value=h.seconds[pipeline])
        responses = CounterMetricFamily("udc_http_requests", "HTTP responses from sources, per status",
                                        labels=["pipeline", "connector", "status"])
        for (pipeline, code), n in sorted(h.responses.items()):
            responses.add_metric([pipeline, connectors.get(pipeline, ""), code], n)
        retries = CounterMetricFamily("udc_http_retries", "Requests retried", labels=["pipeline", "connector"])
        waited = CounterMetricFamily("udc_rate_limit_wait_seconds", "Time spent waiting for the rate budget",
                                     labels=["pipeline", "connector"])
        for pipeline in sorted(set(h.retries) | set(h.waited)):
            retries.add_metric([pipeline, connectors.get(pipeline, "")], h.retries[pipeline])
            waited.add_metric([pipeline, connectors.get(pipeline, "")], h.waited[pipeline])
        yield from (records, runs, running, duration, responses, retries, waited)

    def _gauges(self, connectors: dict[str, str]) -> Iterator[Metric]:
        views, reader = self.views, self.views.reader
        success = GaugeMetricFamily("udc_last_success_timestamp_seconds", "When the last succeeded run finished",
                                    labels=["pipeline"])
        for pipeline, at in sorted(reader.last_success(list(views.config.pipelines)).items()):
            success.add_metric([pipeline], parse_time(at).timestamp())
        lag = GaugeMetricFamily("udc_cursor_lag_seconds", "Now minus the incremental cursor, per table",
                                labels=["pipeline", "table"])
        incremental = {name: spec for name, spec in views.config.pipelines.items() if spec.mode == "incremental"}
        states = reader.states(list(incremental))
        for name, spec in incremental.items():
            state = states[name]
            for table in (t.name for t in spec.synced_tables):
                position = (state.get(f"incremental:{table}") or {}).get("position")
                seconds = views.lag(position[0]) if position else None
                if seconds is not None:
                    lag.add_metric([name, table], seconds)
        chunks = GaugeMetricFamily("udc_backfill_chunks", "Backfill chunks per state",
                                   labels=["backfill", "pipeline", "state"])
        pipelines = {b["id"]: b["pipeline"] for b in reader.backfills(limit=1000)}
        for backfill, by_status in sorted(reader.chunk_counts(list(pipelines)).items()):
            for status, n in sorted(by_status.items()):
                chunks.add_metric([str(backfill), pipelines[backfill], status], n)
        quarantined = GaugeMetricFamily("udc_quarantined_records", "Records that could not be fetched whole",
                                        labels=["dataset"])
        for dataset, n in sorted(reader.quarantine_counts().items()):
            quarantined.add_metric([dataset], n)
        stored = GaugeMetricFamily("udc_records_stored", "Records in the store", labels=["dataset", "state"])
        for dataset, (live, deleted) in sorted(reader.dataset_counts().items()):
            stored.add_metric([dataset, "live"], live)
            stored.add_metric([dataset, "deleted"], deleted)
        yield from (success, lag, chunks, quarantined, stored)


def registry(views: Views) -> CollectorRegistry:
    """A registry of the store's metrics alone (not this process's: many servers may watch one store)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(StoreCollector(views))
    return reg


__all__ = ["registry"]
