"""Every paginator kind end to end through the sync engine, against the simulator shape it is made for: the store
ends with exactly the source's records (count, keys, versions), ties at every page boundary, records changed and
inserted while paging, faults retried; only GET requests reach the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rest_helpers import NOTES, NOW, SHAPES, START, config_for, rows, stored

from udc.simulators.base import Request
from udc.simulators.rest import RestSim
from udc.store import SqliteStore
from udc.sync.backfill import BackfillRunner, create_backfill
from udc.sync.engine import Engine


def sync(tmp_path: Path, sim: RestSim, pipeline: dict[str, Any], now: Any = NOW, name: str = "p") -> Any:
    store = SqliteStore(tmp_path / "udc.db")
    try:
        return Engine(config_for(tmp_path, sim, {name: pipeline}), store).sync(name, now=now), store
    finally:
        store.close()


@pytest.mark.parametrize("shape", list(SHAPES))
def test_each_paginator_syncs_exactly_with_ties_at_every_page_boundary(make_sim: Callable[..., RestSim],
                                                                      tmp_path: Path, shape: str) -> None:
    sim = make_sim(items=203, ties=7)  # 7 records share each second; pages of 5 cut every tie group
    table = SHAPES[shape]
    summary, _ = sync(tmp_path, sim, {"mode": "historical", "batch_size": 5, "tables": [table]})
    assert summary.status == "succeeded", summary.warnings
    store = SqliteStore(tmp_path / "udc.db")
    assert rows(store, table["name"]) == (203, 203)
    assert stored(store, table["name"]) == sim.truth()
    assert {r.method for r in sim.requests} == {"GET"}
    store.close()


@pytest.mark.parametrize("shape", list(SHAPES))
def test_records_changed_and_inserted_while_paging_end_exact(make_sim: Callable[..., RestSim], tmp_path: Path,
                                                              shape: str) -> None:
    sim = make_sim(items=120, ties=4)
    ids = sorted(sim.items)

    def churn(_: Request) -> None:  # records already read move later, others come in at tied seconds
        for n, item_id in enumerate(ids[:30:3]):
            sim.update(item_id, at=START + timedelta(minutes=100, seconds=n % 2))
        sim.create(at=START + timedelta(minutes=100, seconds=1), title="inserted ahead of the read")
        sim.create(at=START, title="inserted behind the read")

    for n in (4, 9, 15):
        sim.on_request(n, churn)
    table = SHAPES[shape]
    summary, _ = sync(tmp_path, sim, {"mode": "historical", "batch_size": 8, "tables": [table]})
    assert summary.status == "succeeded", summary.warnings
    store = SqliteStore(tmp_path / "udc.db")
    behind = {i for i, item in sim.items.items() if item.title == "inserted behind the read"}
    # a record inserted behind the read with an old time is for the lag to catch (no window asks for it again);
    # every other change is in the store, each record once, at its newest version
    got = stored(store, table["name"])
    assert {k: v for k, v in got.items() if k not in behind} == \
        {k: v for k, v in sim.truth().items() if k not in behind}
    assert rows(store, table["name"])[0] == rows(store, table["name"])[1] == len(sim.items) - len(behind - set(got))
    store.close()


def test_incremental_cycles_catch_every_change_and_resync_duplicates_nothing(make_sim: Callable[..., RestSim],
                                                                            tmp_path: Path) -> None:
    sim = make_sim(items=60, ties=6)
    pipelines = {"hist": {"mode": "historical", "batch_size": 7, "tables": [SHAPES["offset"]]},
                 "inc": {"mode": "incremental", "batch_size": 7, "lag": "30s", "tables": [SHAPES["offset"]]}}
    store = SqliteStore(tmp_path / "udc.db")
    try:
        engine = Engine(config_for(tmp_path, sim, pipelines), store)
        assert engine.sync("hist", now=NOW).status == "succeeded"
        assert engine.sync("inc", now=NOW).status == "succeeded"  # the first cycle starts from now
        now = NOW
        for step in range(3):
            boundary = now + timedelta(minutes=2) - timedelta(seconds=30)  # this cycle's window end
            ids = sorted(sim.items)
            for k in range(5):  # several changes share the boundary's last second and the one before it
                sim.update(ids[step * 5 + k], at=boundary - timedelta(seconds=1 + k % 2))
            sim.update(ids[40 + step], at=boundary)  # at the end: the next cycle's
            sim.create(at=boundary - timedelta(seconds=1))
            now += timedelta(minutes=2)
            summary = engine.sync("inc", now=now)
            assert summary.status == "succeeded", summary.warnings
        assert engine.sync("inc", now=now + timedelta(minutes=5)).status == "succeeded"
        assert stored(store, "items") == sim.truth()
        assert rows(store, "items") == (len(sim.items), len(sim.items))
        again = engine.sync("hist", now=now + timedelta(minutes=6))  # a full re-sync: nothing new, nothing twice
        counts = again.streams[0].counts
        assert (counts.inserted, counts.updated) == (0, 0)
        assert rows(store, "items") == (len(sim.items), len(sim.items))
    finally:
        store.close()


def test_a_child_endpoint_is_read_for_each_parent_and_linked_to_it(make_sim: Callable[..., RestSim],
                                                                   tmp_path: Path) -> None:
    sim = make_sim(items=23, ties=2, notes=3)
    summary, _ = sync(tmp_path, sim, {"mode": "historical", "batch_size": 5, "tables": [SHAPES["offset"], NOTES]})
    assert summary.status == "succeeded", summary.warnings
    store = SqliteStore(tmp_path / "udc.db")
    assert rows(store, "notes") == (69, 69)
    edges = set(store.execute("SELECT src_dataset, src_pk, rel, dst_dataset, dst_pk FROM graph_edges"))
    assert ("api/notes", "I00001-N2", "parent", "api/items", "I00001") in edges
    assert ("api/items", "I00003", "service.id", "api/services", "S3") in edges
    store.close()


def test_429_with_retry_after_and_5xx_are_retried_and_the_sync_ends_exact(make_sim: Callable[..., RestSim],
                                                                         tmp_path: Path) -> None:
    sim = make_sim(items=50, ties=3)
    sim.faults.retry_after = 1
    sim.faults.script(["429", "500", "503", "reset"])
    summary, _ = sync(tmp_path, sim, {"mode": "historical", "batch_size": 10, "max_retries": 6,
                                      "tables": [SHAPES["cursor"]]})
    assert summary.status == "succeeded", summary.warnings
    assert sim.faults.fired == ["429", "500", "503", "reset"] and summary.retries == 4
    store = SqliteStore(tmp_path / "udc.db")
    assert stored(store, "events") == sim.truth()
    store.close()


@pytest.mark.parametrize("shape", ["offset", "page"])
def test_order_none_restarts_a_listing_that_moved_and_ends_exact(make_sim: Callable[..., RestSim], tmp_path: Path,
                                                                shape: str, caplog: pytest.LogCaptureFixture) -> None:
    sim = make_sim(items=90, ties=3)
    ids = sorted(sim.items)

    def churn(_: Request) -> None:  # records read already move to the end: every later offset shifts
        for item_id in ids[:4]:
            sim.update(item_id, at=START + timedelta(minutes=119))
        sim.create(at=START + timedelta(minutes=119))  # the count moves too

    sim.on_request(5, churn)
    table = {**SHAPES[shape], "order": "none"}
    summary, _ = sync(tmp_path, sim, {"mode": "historical", "batch_size": 10, "tables": [table]})
    assert summary.status == "succeeded", summary.warnings
    assert "the listing moved while paging" in caplog.text
    store = SqliteStore(tmp_path / "udc.db")
    assert stored(store, "items") == sim.truth()
    assert rows(store, "items") == (91, 91)
    store.close()


def test_a_502_halves_the_batch_and_the_sync_ends_exact(make_sim: Callable[..., RestSim], tmp_path: Path) -> None:
    sim = make_sim(items=40, ties=2)
    sim.faults.paths = ("/offset/items",)
    sim.faults.script([""] * 3 + ["502"])  # the probe and two pages pass, then the gateway fails a page
    summary, _ = sync(tmp_path, sim, {"mode": "historical", "batch_size": 10, "tables": [SHAPES["offset"]]})
    assert summary.status == "succeeded", summary.warnings
    assert sim.faults.fired == ["502"]
    assert [r.arg("limit") for r in sim.requests].count("5") >= 1  # the page after the 502 was asked for half
    store = SqliteStore(tmp_path / "udc.db")
    assert stored(store, "items") == sim.truth()
    store.close()


@pytest.mark.parametrize("shape", ["offset", "cursor"])
def test_a_backfill_re_pulls_its_range_in_chunks(make_sim: Callable[..., RestSim], tmp_path: Path,
                                                 shape: str) -> None:
    sim = make_sim(items=120, ties=3, spread=timedelta(days=6))
    store = SqliteStore(tmp_path / "udc.db")
    try:
        config = config_for(tmp_path, sim, {"live": {"mode": "incremental", "batch_size": 6,
                                                     "tables": [SHAPES[shape]]}})
        day = [START + timedelta(days=n) for n in range(7)]
        bid = create_backfill(config, store, "live", day[1], day[4], parallel=2)
        report = BackfillRunner(config, store, bid).run()
        assert (report.status, report.chunks_done) == ("done", 3)
        expected = {i: item.version for i, item in sim.items.items() if day[1] <= item.updated < day[4]}
        assert len(expected) == 60 and stored(store, SHAPES[shape]["name"]) == expected
    finally:
        store.close()


def test_redaction_applies_to_rest_records(make_sim: Callable[..., RestSim], tmp_path: Path) -> None:
    sim = make_sim(items=12, ties=2)
    sim.update("I00004", at=START + timedelta(minutes=5), title="call Abel at +1 415 555 0142 or abel@example.com")
    summary, _ = sync(tmp_path, sim, {"mode": "historical", "batch_size": 5, "tables": [SHAPES["offset"]],
                                      "redaction": {"enabled": True, "mode": "mask"}})
    assert summary.status == "succeeded", summary.warnings
    store = SqliteStore(tmp_path / "udc.db")
    title = dict((pk, d) for pk, d, _ in store.iter_records("api/items"))["I00004"]["title"]
    assert "abel@example.com" not in title and "555 0142" not in title and title.startswith("call Abel at ")
    assert rows(store, "items") == (12, 12)
    store.close()


def test_a_listing_that_never_stops_moving_fails_the_run_instead_of_looping(make_sim: Callable[..., RestSim],
                                                                           tmp_path: Path) -> None:
    sim = make_sim(items=60, ties=2)
    minute = iter(range(10_000))

    def churn(_: Request) -> None:  # before every page, the first record moves to the end
        first = min(sim.items.values(), key=lambda i: (i.updated, i.id))
        sim.update(first.id, at=START + timedelta(minutes=110, seconds=next(minute)))

    for n in range(2, 400):
        sim.on_request(n, churn)
    summary, _ = sync(tmp_path, sim, {"mode": "historical", "batch_size": 10,
                                      "tables": [{**SHAPES["offset"], "order": "none"}]})
    assert summary.status == "failed"
    assert "the listing kept moving while it was read (20 times)" in summary.streams[0].error
