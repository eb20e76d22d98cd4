"""`udc store copy`: a synced store moved into the other kind of store (SQLite ↔ PostgreSQL) holds exactly the same
rows, continues where the source was, and a copy stopped midway completes when run again, doubling nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from stores import drop_schema, new_schema, unreachable, url_of
from udc.config import load_config
from udc.errors import ConfigError
from udc.store import open_store
from udc.store.copy import TABLES, copy_store
from udc.sync.engine import Engine

from .conftest import AFTER_DATA, Harness, source_truth, stored_truth


@pytest.fixture
def other_store(tmp_path: Path, store_backend: str) -> Iterator[str]:
    """A new store of the other kind than the test's: the copy's target."""
    if store_backend == "postgresql":
        yield f"sqlite:///{tmp_path / 'copy.db'}"
        return
    if why := unreachable():
        pytest.skip(f"no PostgreSQL server answers ({why})")
    schema = new_schema()
    yield url_of(schema)
    drop_schema(schema)


def synced(tmp_path: Path, make_sim: Any) -> Harness:
    """A store with records, tombstones, links, runs and positions: a historical sync and incremental cycles."""
    sim = make_sim({"incident": 300, "cmdb_ci_server": 20})
    h = Harness(tmp_path, sim, {"seed": {"batch_size": 40, "tables": ["incident", "cmdb_ci_server"]},
                                "live": {"mode": "incremental", "lag": "0s", "tables": ["incident"]}})
    h.sync("live", now=AFTER_DATA)
    h.sync("seed", now=AFTER_DATA)
    for sys_id in sorted(source_truth(sim))[:3]:
        sim.delete("incident", sys_id, at=AFTER_DATA + timedelta(seconds=3))
    h.sync("live", now=AFTER_DATA + timedelta(minutes=2))
    return h


def everything(url: str) -> dict[str, list[tuple[Any, ...]]]:
    store = open_store(url)
    try:
        tables = {}
        for table, keys in TABLES:
            # not PostgreSQL's record ids (the graph's node ids, new in each store, as SQLite's rowids are)
            columns = [c for c in store.table_columns(table)  # type: ignore[attr-defined]
                       if c != "host" and (table, c) != ("records", "id")]
            rows = store.read_rows(table, columns, keys, None, 1_000_000)  # type: ignore[attr-defined]
            tables[table] = [row for row in rows if table != "state" or row[0] != "udc-store-copy"]
        return tables
    finally:
        store.close()


def test_a_copied_store_holds_the_same_rows_and_syncs_on_from_where_the_source_was(
        tmp_path: Path, make_sim: Any, other_store: str) -> None:
    h = synced(tmp_path, make_sim)
    done = subprocess.run([sys.executable, "-m", "udc", "store", "copy", "--from", h.config.store, "--to", other_store,
                           "--batch", "50"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    source = everything(h.config.store)
    assert source["records"] and source["runs"] and source["state"]
    assert everything(other_store) == source
    assert any(row[5] for row in source["records"])  # tombstones travelled (deleted is the 6th column)
    assert re.search(rf"records +{len(source['records']):,} rows", done.stdout), done.stdout

    # the target goes on: the next cycle reads only what changed, and new runs follow the copied ones
    config = load_config(h.path).model_copy(update={"store": other_store})
    target = open_store(other_store)
    changed = next(iter(source_truth(h.sim)))
    h.sim.update("incident", changed, {"state": "7"}, at=AFTER_DATA + timedelta(minutes=3))
    summary = Engine(config, target).sync("live", now=AFTER_DATA + timedelta(minutes=5))
    assert summary.status == "succeeded" and sum(s.rows for s in summary.streams) == 1
    assert summary.run_id > max(row[0] for row in source["runs"])
    live = {pk: rec["sys_updated_on"] for pk, rec, dead in target.iter_records("snow/incident") if not dead}
    assert live == source_truth(h.sim) == {**stored_truth(h), changed: live[changed]}
    target.close()


def test_a_copy_stopped_midway_completes_when_run_again(tmp_path: Path, make_sim: Any, other_store: str) -> None:
    h = synced(tmp_path, make_sim)
    batches: list[str] = []

    def stop_after_five(table: str, rows: int) -> None:
        batches.append(table)
        if len(batches) == 5 or (table == "records" and rows == 100):
            raise KeyboardInterrupt  # as a Ctrl-C would, between two committed batches

    for _ in range(2):
        with pytest.raises(KeyboardInterrupt):
            copy_store(open_store(h.config.store), open_store(other_store), 50, stop_after_five)  # type: ignore[arg-type]
    copy_store(open_store(h.config.store), open_store(other_store), 50)  # type: ignore[arg-type]
    assert everything(other_store) == everything(h.config.store)


def test_copies_udc_refuses(tmp_path: Path, make_sim: Any, other_store: str) -> None:
    h = synced(tmp_path, make_sim)
    copy_store(open_store(h.config.store), open_store(other_store))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="already holds records"):  # a store of its own, not a copy to resume
        copy_store(open_store(other_store), open_store(h.config.store))  # type: ignore[arg-type]
    for args, said in ((["--from", h.config.store, "--to", h.config.store], "the same store"),
                       (["--from", f"sqlite:///{tmp_path / 'none.db'}", "--to", other_store], "there is no store"),
                       (["--from", "postgresql://u:pw@127.0.0.1/x", "--to", other_store], "PGPASSWORD")):
        done = subprocess.run([sys.executable, "-m", "udc", "store", "copy", *args], capture_output=True, text=True)
        assert done.returncode == 2 and said in done.stderr, done.stderr


def test_a_round_trip_through_postgresql_keeps_the_counts_and_the_graph(tmp_path: Path, make_sim: Any,
                                                                        store_backend: str, other_store: str) -> None:
    """SQLite → PostgreSQL → SQLite: each copy counts its records and builds its graph (search, links) afresh, as
    the first store had them (node ids are each store's own, so they are compared by record)."""
    if store_backend != "sqlite":
        pytest.skip("starts from a SQLite store")
    h = synced(tmp_path, make_sim)
    back = f"sqlite:///{tmp_path / 'back.db'}"
    copy_store(open_store(h.config.store), open_store(other_store))  # type: ignore[arg-type]
    copy_store(open_store(other_store), open_store(back))  # type: ignore[arg-type]
    first, middle, again = open_store(h.config.store), open_store(other_store), open_store(back)

    def graph(store: Any) -> tuple[Any, ...]:
        by_id = {node_id: (node["dataset"], node["pk"]) for node_id, node in store.nodes(
            [n for n, in store.execute("SELECT id FROM graph_nodes")]).items()}
        links = sorted((by_id[e["src"]], by_id[e["dst"]], e["rel"]) for e in store.neighbours(by_id))
        found = sorted(by_id[hit["id"]] for hit in store.text_search("server OR disk OR email", 1000))
        return store.dataset_counts(), store.edge_count(), sorted(by_id.values()), links, found

    assert graph(middle) == graph(first)
    assert graph(again) == graph(first)
    assert graph(first)[1] and graph(first)[3] and graph(first)[4]  # links, and found by search
