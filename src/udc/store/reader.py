"""The monitoring read interface: what `udc serve` asks of a store, whatever the database behind it.

Every method is one bounded query (a page of runs, a page of chunks, counts grouped in the database), so a dashboard
over 10,000 runs and 100,000 chunks stays fast; a reader never writes and never takes a lock a writer waits on.
Summaries, tables, rows and errors come back as Python values (the JSON columns decoded).
"""

from __future__ import annotations

from typing import Any, Protocol

from udc.store.base import GraphQueries

RUN_MODES = ("historical", "incremental", "backfill")  # what a run's `mode` says it was


class StoreReader(GraphQueries, Protocol):
    location: str  # where the store is, for messages

    # -- runs
    def runs(self, pipeline: str | None = None, limit: int = 50, before: int | None = None) -> list[dict[str, Any]]:
        """Newest first; `before`: only runs with a smaller id (the next page)."""
        ...

    def run(self, run_id: int) -> dict[str, Any] | None: ...

    def runs_after(self, run_id: int, limit: int = 1000) -> list[dict[str, Any]]:
        """Oldest first, ids above `run_id`: for folding the run history once into counters."""
        ...

    def last_runs(self, pipelines: list[str]) -> list[dict[str, Any]]:
        """The newest run of each of these pipelines in each mode (RUN_MODES), newest first."""
        ...

    def last_success(self, pipelines: list[str]) -> dict[str, str]:
        """When each of these pipelines' newest succeeded run finished (ISO); absent if none has."""
        ...

    # -- state, per owner (a pipeline, `backfill:<id>`) and stream
    def states(self, owners: list[str]) -> dict[str, dict[str, dict[str, Any]]]: ...

    # -- backfills and chunks
    def backfills(self, pipeline: str | None = None, limit: int = 50, before: int | None = None
                  ) -> list[dict[str, Any]]:
        """Newest first."""
        ...

    def backfill(self, backfill_id: int) -> dict[str, Any] | None: ...

    def chunk_counts(self, backfill_ids: list[int] | None = None) -> dict[int, dict[str, int]]:
        """Chunks per status of these backfills (all when None)."""
        ...

    def chunks(self, backfill_id: int, first_seq: int = 1, limit: int = 2000) -> list[dict[str, Any]]:
        """Chunks in sequence order from `first_seq`."""
        ...

    def chunks_in(self, backfill_id: int, status: str, limit: int = 100) -> list[dict[str, Any]]: ...

    def leased(self, backfill_ids: list[int], now: str) -> dict[int, list[str]]:
        """The claimants (`host:pid`) of these backfills' running chunks whose lease ends after `now` (lease_stamp)."""
        ...

    # -- records, quarantine, redaction
    def dataset_counts(self, prefix: str = "") -> dict[str, tuple[int, int]]:
        """(live, deleted) records per dataset."""
        ...

    def quarantined(self, prefix: str = "", limit: int = 100) -> list[tuple[str, str, str]]: ...

    def quarantine_counts(self) -> dict[str, int]: ...

    def redaction_totals(self, prefix: str = "") -> dict[str, dict[str, int]]: ...

    def close(self) -> None: ...


__all__ = ["RUN_MODES", "StoreReader"]
