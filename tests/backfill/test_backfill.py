"""Backfills end to end against the ServiceNow simulator: the ledger, retries, off-peak pauses across a DST change,
historical end dates, and the incremental cursor left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from udc.cli import app
from udc.errors import UdcError
from udc.records import Position
from udc.sync.backfill import BackfillRunner, backfill_status, create_backfill, list_backfills, state_owner
from udc.sync.engine import Engine, Stop
from udc.sync.windows import OffPeak
from udc.timeutil import snow_time

from .conftest import AFTER_DATA, START, Harness, source_truth


def day(n: int) -> datetime:
    return START + timedelta(days=n)


def test_backfill_re_pulls_the_range_in_chunks_and_leaves_the_incremental_cursor_alone(tmp_path: Path,
                                                                                       make_sim) -> None:
    sim = make_sim({"incident": 300, "problem": 60})
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "lag": "0s", "batch_size": 7,
                                         "tables": ["incident", "problem"]}})
    Engine(h.config, h.store).sync("live", now=AFTER_DATA)
    cursors = h.store.all_state("live")
    bid = create_backfill(h.config, h.store, "live", day(5), day(15), tables=["incident"], parallel=3)
    report = BackfillRunner(h.config, h.store, bid).run()
    assert (report.status, report.chunks_done, report.chunks_total) == ("done", 10, 10)
    expected = source_truth(sim, start=snow_time(day(5)), end=snow_time(day(15)))
    assert expected and h.stored() == expected
    assert h.stored("problem") == {}  # --tables incident
    assert h.store.all_state("live") == cursors  # invariant 5: the incremental cursor did not move
    status = backfill_status(h.store, bid)
    assert status["tables"] == {"incident": {"rows": len(expected), "deleted": 0}}
    assert status["chunks"] == {"done": 10} and status["eta_seconds"] == 0.0 and status["rate"] > 0
    chunks = h.store.chunks(bid)
    assert [c["attempts"] for c in chunks] == [1] * 10
    assert sum(c["rows"].get("incident", {}).get("rows", 0) for c in chunks) == len(expected)
    for chunk in chunks:  # each chunk read exactly its own day
        rows = chunk["rows"].get("incident", {"rows": 0})["rows"]
        assert rows == len(source_truth(sim, start=snow_time(datetime.fromisoformat(chunk["chunk_start"])),
                                        end=snow_time(datetime.fromisoformat(chunk["chunk_end"]))))
    runs = h.store.runs("live")
    assert runs[0]["mode"] == "backfill" and runs[0]["status"] == "succeeded"


def test_chunks_run_newest_first(tmp_path: Path, make_sim) -> None:
    """An update cursor's days fill up towards now (every record sits at its last update): the heaviest chunks start
    first, so the light ones even out the end of a parallel backfill, and the freshest data lands first."""
    sim = make_sim({"incident": 200})
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "tables": ["incident"]}})
    bid = create_backfill(h.config, h.store, "live", day(0), day(6), parallel=1)
    assert BackfillRunner(h.config, h.store, bid).run().status == "done"
    started = [c["seq"] for c in sorted(h.store.chunks(bid), key=lambda c: c["started_at"])]
    assert started == [6, 5, 4, 3, 2, 1]


@pytest.mark.both_stores
def test_failed_chunks_are_retried_marked_failed_after_their_attempts_and_resumed(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 200})
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "max_retries": 0, "batch_size": 50,
                                         "tables": ["incident"]}})
    sim.faults.paths = ("/api/now/table/incident",)
    sim.faults.script(["500"])  # one failure: the chunk's second attempt succeeds
    bid = create_backfill(h.config, h.store, "live", day(0), day(4), parallel=1, max_attempts=3)
    report = BackfillRunner(h.config, h.store, bid, retry_delay=0).run()
    assert report.status == "done"
    first = h.store.chunks(bid)[-1]  # chunks run newest first
    assert first["attempts"] == 2 and len(first["errors"]) == 1 and "HTTP 500" in first["errors"][0]["error"]

    sim.faults.script(["500", "503", "500"])  # three in a row: the chunk is failed for good
    bid = create_backfill(h.config, h.store, "live", day(4), day(8), parallel=1, max_attempts=3)
    report = BackfillRunner(h.config, h.store, bid, retry_delay=0).run()
    assert report.status == "failed" and report.chunks_done == 3
    status = backfill_status(h.store, bid)
    assert status["status"] == "failed" and "udc backfill --resume" in status["error"]
    [failed] = status["failed"]
    assert failed["seq"] == 4 and failed["attempts"] == 3 and len(failed["errors"]) == 3
    assert "HTTP 503" in failed["errors"][1]["error"]
    cli = CliRunner().invoke(app, ["backfill", "status", str(bid), "--config", str(h.path)])
    assert cli.exit_code == 0 and "failed chunk 4" in cli.output and "3/4 chunks" in cli.output
    # --resume retries failed chunks with a fresh attempt budget
    report = BackfillRunner(h.config, h.store, bid, retry_delay=0, retry_failed=True).run()
    assert report.status == "done" and report.chunks_done == 4
    assert h.stored() == source_truth(sim, start=snow_time(day(0)), end=snow_time(day(8)))


class FakeTime:
    """An injectable UTC clock whose sleeps advance it (and are recorded)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.sleeps: list[tuple[datetime, float]] = []
        self.on_sleep = lambda: None

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append((self.now, seconds))
        self.now += timedelta(seconds=seconds)
        self.on_sleep()


def test_off_peak_window_starts_pauses_and_resumes_chunks_across_spring_forward(tmp_path: Path, make_sim) -> None:
    """01:00-03:00 New York on 9 March 2025 lasts one hour (02:00 never happens): the chunk running when the clock
    jumps to 03:00 stops after its page, and continues from its position when the window opens the next night."""
    sim = make_sim({"incident": 600})
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "batch_size": 4, "tables": ["incident"]}})
    clock = FakeTime(datetime(2025, 3, 8, 17, 0, tzinfo=UTC))  # 12:00 EST: outside the window
    window = OffPeak.parse("01:00-03:00", "America/New_York")
    bid = create_backfill(h.config, h.store, "live", day(10), day(13), parallel=1, window=window)
    seen: dict[str, int] = {}

    def first_sleep() -> None:  # the window is about to open: close it again on the 3rd data request from now
        seen["before_open"] = len([r for r in sim.requests if r.path == "/api/now/table/incident"])
        sim.on_request(sim.table_request_count + 3, lambda _: setattr(clock, "now", clock.now.replace(hour=7)))
        clock.on_sleep = paused

    def paused() -> None:  # the window closed: where the chunk stands, as committed with its last page
        seen["requests"] = len(sim.requests)
        seen["position"] = h.store.get_state(state_owner(bid), "3:incident")["position"]  # newest first
        clock.on_sleep = lambda: None

    clock.on_sleep = first_sleep
    report = BackfillRunner(h.config, h.store, bid, clock=clock, sleep=clock.sleep).run()
    assert report.status == "done"
    assert seen["before_open"] == 0  # nothing was read before the window opened
    opened = datetime(2025, 3, 9, 6, 0, tzinfo=UTC)  # 01:00 EST
    closed = datetime(2025, 3, 9, 7, 0, tzinfo=UTC)  # 02:00 EST is 03:00 EDT: closed
    reopened = datetime(2025, 3, 10, 5, 0, tzinfo=UTC)  # 01:00 EDT
    assert clock.sleeps == [(clock.sleeps[0][0], (opened - clock.sleeps[0][0]).total_seconds()),
                            (closed, (reopened - closed).total_seconds())]
    chunks = h.store.chunks(bid)
    assert [c["attempts"] for c in chunks] == [1, 1, 1]  # the pause did not count as an attempt
    # after the pause the chunk continued after its last stored page, not from scratch
    cursor, pk = Position.from_json(seen["position"]).cursor, Position.from_json(seen["position"]).pk
    resumed = next(r.arg("sysparm_query") or "" for r in sim.requests[seen["requests"]:]
                   if r.path == "/api/now/table/incident")
    assert f"sys_updated_on={snow_time(datetime.fromisoformat(cursor))}^sys_id>{pk}" in resumed
    assert h.store.chunks(bid)[-1]["pages"] >= 3
    assert h.stored() == source_truth(sim, start=snow_time(day(10)), end=snow_time(day(13)))


def test_historical_end_date_is_a_one_time_backfill_in_the_ledger(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 300})
    h = Harness(tmp_path, sim, {"hist": {"start_date": "2025-01-03", "end_date": "2025-01-20", "batch_size": 5,
                                         "tables": ["incident"]}})
    stop = Stop()
    pages = {"n": 0}

    def progress(result: object) -> None:
        pages["n"] += 1
        if pages["n"] == 12:
            stop.event.set()

    first = Engine(h.config, h.store, stop=stop, on_progress=progress).sync("hist")
    assert first.status == "stopped" and first.mode == "historical"
    [entry] = list_backfills(h.store, "hist")
    assert entry["kind"] == "historical" and entry["status"] == "stopped" and entry["chunks_total"] == 17
    summary = Engine(h.config, h.store).sync("hist")  # resumes the same ledger entry
    assert summary.status == "succeeded"
    [entry] = list_backfills(h.store, "hist")
    assert entry["status"] == "done" and entry["chunks_done"] == 17
    assert h.stored() == source_truth(sim, start="2025-01-03", end="2025-01-20")
    assert sum(s.rows for s in first.streams) + sum(s.rows for s in summary.streams) == len(h.stored())
    assert h.store.all_state("hist") == {}  # its positions live in the ledger's own state
    assert h.store.all_state(state_owner(entry["id"]))
    cli = CliRunner().invoke(app, ["backfill", "status", "--config", str(h.path)])
    assert f"backfill #{entry['id']}" in cli.output and "(historical)" in cli.output


@pytest.mark.both_stores
def test_a_chunk_position_commits_with_its_page(tmp_path: Path, make_sim) -> None:
    """Stop after one page (the page already handed to the store's writer commits too): the chunk's state holds the
    last stored page's key and the stored pages' tallies, nothing more."""
    sim = make_sim({"incident": 300})
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "batch_size": 1, "tables": ["incident"]}})
    stop = Stop()
    bid = create_backfill(h.config, h.store, "live", day(20), day(21), parallel=1)
    runner = BackfillRunner(h.config, h.store, bid, stop=stop,
                            on_progress=lambda r: stop.event.set() if r.pages else None)
    assert runner.run().status == "stopped"
    state = h.store.get_state(state_owner(bid), "1:incident")
    assert state is not None and state["pages"] in (1, 2) and state["rows"] == state["pages"]
    in_day = [r for r in sim.records("incident") if snow_time(day(20)) <= r["sys_updated_on"] < snow_time(day(21))]
    assert not state.get("done") and len(in_day) > 3  # the stop came in the middle of the chunk
    stored = sorted(((rec["sys_updated_on"], pk) for pk, rec, _ in h.store.iter_records("snow/incident")))
    assert len(stored) == state["rows"]
    assert Position.from_json(state["position"]).pk == stored[-1][1]
    assert h.store.chunks(bid)[0]["status"] == "pending"


def test_a_backfill_the_source_refuses_before_any_chunk_ends_failed_in_the_ledger(tmp_path: Path, make_sim
                                                                                     ) -> None:
    h = Harness(tmp_path, make_sim({"incident": 20}), {"live": {"mode": "incremental", "tables": ["incidnet"]}})
    bid = create_backfill(h.config, h.store, "live", day(0), day(3))
    with pytest.raises(UdcError) as refused:
        BackfillRunner(h.config, h.store, bid).run()
    row = h.store.backfills(backfill_id=bid)[0]
    assert (row["status"], row["error"], row["pid"]) == ("failed", refused.value.message, None)
    assert h.store.runs("live") == []  # refused input (a table the source does not have) records no run
    assert {c["status"] for c in h.store.chunks(bid)} == {"pending"}
