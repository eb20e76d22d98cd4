"""What the dashboard and the JSON API show, built from the config and a read-only store: pipelines with their health,
lag and rows per table; runs with their error and the fix; backfills with chunk completion, rate and ETA.

Every view makes a fixed number of store queries whatever the size of the history (pages of runs and chunks, counts
grouped in the database), so it stays fast over 10,000 runs and 100,000 chunks.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from udc.check import check_owner
from udc.config import Config
from udc.errors import StoreError
from udc.procs import claimant_gone, gone_here
from udc.store import StoreReader, lease_stamp
from udc.sync.backfill import backfill_progress, state_owner
from udc.timeutil import parse_time, utcnow

FIX_MARK = "\n  fix: "  # how a UdcError's text carries its fix (udc.errors.UdcError.__str__)
CRASHED = {"message": "the run's process ended before the run did (killed, or the machine stopped)",
           "fix": "run the pipeline again: it resumes after the last stored page"}
UNSAID = {"message": "the run failed without a message", "fix": "run it again with --verbose and read the log"}
GRID_PAGE = 2000  # chunk cells on one backfill page


class NotFound(LookupError):
    """An unknown pipeline, run or backfill: a 404 with the message and where to look."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message, self.fix = message, fix


class Views:
    def __init__(self, config: Config, reader: StoreReader | Callable[[], StoreReader],
                 clock: Callable[[], datetime] = utcnow, reopen: Callable[[], StoreReader] | None = None) -> None:
        """`reader`: the store's, or what opens it at the first request that reads it (`udc serve` started before
        the first sync): until then each request tries again, and its NoStoreYet is answered 503 with the fix.
        `reopen` (or a callable `reader`) opens it again after a read failed (`lost`)."""
        self.config, self.clock = config, clock
        self._reader: StoreReader | None = None if callable(reader) else reader
        self._open: Callable[[], StoreReader] | None = reader if callable(reader) else reopen
        self._opening = threading.Lock()

    @property
    def reader(self) -> StoreReader:
        if self._reader is None:
            with self._opening:
                if self._reader is None and self._open is not None:
                    self._reader = self._open()
        assert self._reader is not None
        return self._reader

    def lost(self) -> None:
        """A read failed (a PostgreSQL server restarted, the store's file went away): the next request opens the
        store again, if it can be (a reader holds a connection that does not come back by itself)."""
        if self._open is None:
            return
        with self._opening:
            reader, self._reader = self._reader, None
        if reader is not None:
            with contextlib.suppress(Exception):  # a broken connection's close must not fail the answer
                reader.close()

    def check(self) -> None:
        """Read the store once (one index lookup): it can be opened and answers, else the reader's error (after a
        failed read, `lost`)."""
        try:
            self.reader.run(0)
        except StoreError:
            self.lost()
            raise

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()

    # -- pipelines --------------------------------------------------------------------------------------------------
    def pipelines(self) -> list[dict[str, Any]]:
        """Every configured pipeline: health, last run, last success, lag and records per table (5 queries)."""
        last: dict[str, list[dict[str, Any]]] = {}
        names = list(self.config.pipelines)
        for run in self.reader.last_runs(names):
            last.setdefault(run["pipeline"], []).append(run)
        success = self.reader.last_success(names)
        counts, quarantine = self.reader.dataset_counts(), self.reader.quarantine_counts()
        states = self.reader.states(list(self.config.pipelines))
        return [self._pipeline(name, last.get(name, []), success.get(name), counts, quarantine, states[name])
                for name in self.config.pipelines]

    def pipeline(self, name: str) -> dict[str, Any]:
        """One pipeline with its tables (cursor and lag each), redaction totals, quarantined records and backfills."""
        spec = self._spec(name)
        prefix = f"{spec.connector}/"
        runs = self.reader.last_runs([name])
        success = self.reader.last_success([name]).get(name)
        counts = self.reader.dataset_counts(prefix)
        quarantined = self.reader.quarantined(prefix)
        states = self.reader.states([name, check_owner(spec.connector)])  # its cursors, its connector's last check
        item = self._pipeline(name, runs, success, counts,
                              {d: sum(1 for q in quarantined if q[0] == d) for d in counts}, states[name])
        item["redactions"] = self.reader.redaction_totals(prefix)
        item["quarantined_records"] = [{"dataset": d, "pk": pk, "reason": r} for d, pk, r in quarantined]
        item["backfills"] = self.backfills(pipeline=name, limit=20)["backfills"]
        item["check"] = _check(spec.connector, states[check_owner(spec.connector)])
        return item

    def _spec(self, name: str) -> Any:
        if name not in self.config.pipelines:
            raise NotFound(f"there is no pipeline '{name}'",
                           f"pick one of: {', '.join(self.config.pipelines) or '(none configured)'}")
        return self.config.pipelines[name]

    def _pipeline(self, name: str, last: list[dict[str, Any]], success: str | None,
                  counts: dict[str, tuple[int, int]], quarantine: dict[str, int],
                  state: dict[str, dict[str, Any]]) -> dict[str, Any]:
        spec = self.config.pipelines[name]
        prefix = f"{spec.connector}/"
        tables = []
        for table in (t.name for t in spec.synced_tables):
            live, deleted = counts.get(prefix + table, (0, 0))
            entry: dict[str, Any] = {"table": table, "dataset": prefix + table, "records": live, "deleted": deleted,
                                     "quarantined": quarantine.get(prefix + table, 0)}
            entry.update(self._position(state, spec.mode, table))
            tables.append(entry)
        run = self.run_brief(last[0]) if last else None
        # health is the pipeline's own sync: a backfill beside it succeeding says nothing of its cycles
        own = next((r for r in last if r["mode"] != "backfill"), last[0] if last else None)
        lags = [t["lag_seconds"] for t in tables if t.get("lag_seconds") is not None]
        return {"name": name, "connector": spec.connector, "type": spec.type, "mode": spec.mode,
                "health": _health(self.run_brief(own) if own else None), "last_run": run,
                "last_success_at": success,
                "records": sum(t["records"] for t in tables), "deleted": sum(t["deleted"] for t in tables),
                "quarantined": sum(t["quarantined"] for t in tables),
                "lag_seconds": max(lags) if lags else None, "tables": tables}

    def _position(self, state: dict[str, dict[str, Any]], mode: str, table: str) -> dict[str, Any]:
        value = state.get(f"{mode}:{table}") or {}
        position = value.get("position")
        cursor = position[0] if position else None
        lag = self.lag(cursor) if mode == "incremental" else None  # a historical pass has a window, not a lag
        return {"cursor": cursor, "done": value.get("done"), "lag_seconds": lag}

    def lag(self, cursor: str | None) -> float | None:
        """now − cursor: how far behind the source the stored data may be."""
        if not cursor:
            return None
        try:
            return max(0.0, round((self.clock() - parse_time(cursor)).total_seconds(), 1))
        except ValueError:
            return None

    # -- checks -----------------------------------------------------------------------------------------------------
    def checks(self, connectors: list[str] | None = None) -> list[dict[str, Any]]:
        """The last `udc check` report of each connector (when it was run against this store), one query."""
        names = connectors if connectors is not None else list(self.config.connectors)
        states = self.reader.states([check_owner(name) for name in names])
        return [_check(name, states[check_owner(name)]) for name in names]

    # -- runs -------------------------------------------------------------------------------------------------------
    def runs(self, pipeline: str | None = None, limit: int = 50, before: int | None = None) -> dict[str, Any]:
        if pipeline is not None:
            self._spec(pipeline)
        rows = self.reader.runs(pipeline, limit=limit, before=before)
        runs = [self.run_brief(r) for r in rows]
        return {"runs": runs, "next_before": runs[-1]["id"] if len(runs) == limit else None}

    def run(self, run_id: int) -> dict[str, Any]:
        row = self.reader.run(run_id)
        if row is None:
            raise NotFound(f"there is no run #{run_id}", "list runs at /api/runs")
        return {**self.run_brief(row), "summary": row["summary"]}

    def run_brief(self, row: dict[str, Any]) -> dict[str, Any]:
        """A run as the dashboard lists it; a run whose process is gone without finishing is `crashed`."""
        summary = row["summary"] or {}
        status = row["status"]
        if status == "running" and gone_here(row["pid"], row["host"]):
            status = "crashed"
        warnings = [_split_fix(w) for w in summary.get("warnings", [])]
        errors = [_split_fix(s["error"]) for s in summary.get("streams", []) if s.get("error")]
        if status in ("failed", "crashed"):
            errors += [w for w in warnings if w["fix"]] or warnings
            errors = errors or [CRASHED if status == "crashed" else UNSAID]
        return {"id": row["id"], "pipeline": row["pipeline"], "mode": row["mode"], "status": status,
                "started_at": row["started_at"], "finished_at": row["finished_at"],
                "seconds": summary.get("seconds"),
                "rows": sum(s.get("rows", 0) for s in summary.get("streams", [])),
                "tables": {s["stream"]: s.get("rows", 0) for s in summary.get("streams", [])},
                "calls": summary.get("calls", 0), "retries": summary.get("retries", 0),
                "error": next((e for e in errors if e["fix"]), errors[0]) if errors else None,
                "warnings": warnings}

    # -- backfills --------------------------------------------------------------------------------------------------
    def backfills(self, pipeline: str | None = None, limit: int = 50, before: int | None = None) -> dict[str, Any]:
        rows = self.reader.backfills(pipeline, limit=limit, before=before)
        ids = [r["id"] for r in rows]
        counts, leased = self.reader.chunk_counts(ids), self.reader.leased(ids, lease_stamp(self.clock()))
        items = [self._backfill(row, counts.get(row["id"], {}), leased.get(row["id"], [])) for row in rows]
        return {"backfills": items, "next_before": items[-1]["id"] if len(items) == limit else None}

    def backfill(self, backfill_id: int, first_seq: int = 1, limit: int = GRID_PAGE) -> dict[str, Any]:
        """One backfill: chunk completion, rows per table, rate, ETA, failed chunks with errors, and a page of the
        chunk grid (`first_seq`, `limit`)."""
        row = self.reader.backfill(backfill_id)
        if row is None:
            raise NotFound(f"there is no backfill #{backfill_id}", "list backfills at /api/backfills")
        by_status = self.reader.chunk_counts([backfill_id]).get(backfill_id, {})
        tables: dict[str, dict[str, int]] = {}
        pages = 0
        owner = state_owner(backfill_id)
        for key, value in self.reader.states([owner])[owner].items():
            entry = tables.setdefault(key.split(":", 1)[1].split(".", 1)[0], {"rows": 0, "deleted": 0})
            entry["rows"] += int(value.get("rows", 0))
            entry["deleted"] += int(value.get("deleted", 0))
            pages += int(value.get("pages", 0))
        leased = self.reader.leased([backfill_id], lease_stamp(self.clock())).get(backfill_id, [])
        item = self._backfill(row, by_status, leased, sum(t["rows"] + t["deleted"] for t in tables.values()))
        chunks = self.reader.chunks(backfill_id, first_seq, limit)
        item.update({"tables": tables, "pages": pages,
                     "failed": [_chunk_cell(c) for c in self.reader.chunks_in(backfill_id, "failed")],
                     "grid": [_chunk_cell(c) for c in chunks], "grid_first": first_seq,
                     "grid_next": chunks[-1]["seq"] + 1 if len(chunks) == limit else None})
        return item

    def _backfill(self, row: dict[str, Any], by_status: dict[str, int], leased: list[str],
                  rows: int | None = None) -> dict[str, Any]:
        """`leased`: the claimants of its chunks under a live lease (Celery workers, on any host, hold them)."""
        status = row["status"]
        if status in ("running", "waiting") and gone_here(row["pid"]) and all(claimant_gone(w) for w in leased):
            status = "interrupted"  # its process died: `udc backfill --resume ID` (or `udc run`) continues it
        total, done = sum(by_status.values()), by_status.get("done", 0)
        rate, eta = backfill_progress(float(row["active_seconds"] or 0), by_status, rows or 0)
        return {"id": row["id"], "pipeline": row["pipeline"], "kind": row["kind"], "tables_asked": row["tables"],
                "range_start": row["range_start"], "range_end": row["range_end"], "status": status,
                "error": _split_fix(row["error"]) if row["error"] else None, "chunks_total": total,
                "chunks_done": done, "chunks": by_status, "rows": rows,
                "rate": rate if rows is not None else None, "eta_seconds": eta,
                "created_at": row["created_at"], "finished_at": row["finished_at"]}


def _check(connector: str, state: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return state.get("report") or {"connector": connector, "at": None}


def _health(run: dict[str, Any] | None) -> str:
    if run is None:
        return "never run"
    return {"succeeded": "ok", "running": "running", "stopped": "stopped"}.get(run["status"], "failing")


def _split_fix(text: str) -> dict[str, str]:
    message, _, fix = text.partition(FIX_MARK)
    return {"message": message, "fix": fix}


def _chunk_cell(chunk: dict[str, Any]) -> dict[str, Any]:
    status = chunk["status"]
    if status == "pending" and chunk["errors"]:
        status = "retrying"
    last = chunk["errors"][-1] if chunk["errors"] else None
    return {"seq": chunk["seq"], "start": chunk["chunk_start"], "end": chunk["chunk_end"], "status": status,
            "attempts": chunk["attempts"], "rows": sum(t.get("rows", 0) + t.get("deleted", 0)
                                                       for t in chunk["rows"].values()),
            "error": _split_fix(last["error"]) if last and last.get("error") else None}


__all__ = ["NotFound", "Views"]
