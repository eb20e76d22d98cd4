"""Store schema versions: a new store is created at this udc's version, an older one is brought up to it when it
opens (data kept), and one written by a newer udc is refused, saying so, before anything is read or written."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from secret_refs import env_ref
from stores import Backend
from udc.errors import ConfigError
from udc.store import PageWrite, Store, open_reader, open_store, postgres, sqlite


def migrations(store: Store) -> tuple[object, ...]:
    return sqlite.MIGRATIONS if isinstance(store, sqlite.SqliteStore) else postgres.MIGRATIONS


def set_version(store: Store, version: int) -> None:
    if isinstance(store, sqlite.SqliteStore):
        store.execute(f"PRAGMA user_version = {version}")
    else:
        store.execute("UPDATE schema_version SET version = %s", (version,))


@pytest.mark.both_stores
def test_a_new_store_is_at_this_udcs_version(store: Store) -> None:
    # SQLite 5 (the tables; leases, monitoring, counts and the graph; its link ends' dataset kinds; its nodes'
    # resolved times; their tables and times in the full-text index), PostgreSQL 4 (the tables; leases and
    # monitoring; the graph; its nodes' resolved times)
    expected = 5 if isinstance(store, sqlite.SqliteStore) else 4
    assert store.schema_version() == len(migrations(store)) == expected  # type: ignore[attr-defined]


@pytest.mark.both_stores
def test_an_older_store_is_migrated_when_opened_and_keeps_its_data(store: Store, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    store.write(PageWrite("s/t", [("a", "2025-01-01", {"v": 1})]), 1)
    store.close()
    module = sqlite if isinstance(store, sqlite.SqliteStore) else postgres
    later = "ALTER TABLE runs ADD COLUMN note TEXT;\nCREATE INDEX runs_by_note ON runs (note);\n"
    monkeypatch.setattr(module, "MIGRATIONS", (*module.MIGRATIONS, later))
    again = open_store(Backend.store_url(tmp_path / "udc.db"))
    assert again.schema_version() == len(module.MIGRATIONS)  # type: ignore[attr-defined]
    assert [(pk, rec) for pk, rec, _ in again.iter_records("s/t")] == [("a", {"v": 1})]
    again.execute("UPDATE runs SET note = 'n'")  # the new column is there
    again.close()


@pytest.mark.both_stores
def test_a_store_from_a_newer_udc_is_refused_before_anything_is_read(store: Store, tmp_path: Path) -> None:
    set_version(store, 7)
    store.close()
    with pytest.raises(ConfigError, match=r"written by a newer udc \(schema version 7; this udc knows versions up "
                                          rf"to {len(migrations(store))}\)") as refused:
        open_store(Backend.store_url(tmp_path / "udc.db"))
    assert "upgrade udc" in refused.value.hint
    with pytest.raises(ConfigError, match=r"written by a newer udc \(schema version 7"):
        open_reader(Backend.store_url(tmp_path / "udc.db"))
    config = tmp_path / "udc.yaml"
    config.write_text(yaml.safe_dump({
        "store": Backend.store_url(tmp_path / "udc.db"),
        "connectors": {"snow": {"type": "servicenow", "instance_url": "http://127.0.0.1:9",
                                "auth": {"type": "basic", "username": "u", "password": env_ref("secret-pw")}}},
        "pipelines": {"p": {"connector": "snow", "tables": ["incident"]}}}))
    status = subprocess.run([sys.executable, "-m", "udc", "status", "--config", str(config)], capture_output=True,
                            text=True)
    assert status.returncode == 2 and "written by a newer udc" in status.stderr, status.stderr


DATA = Path(__file__).parent / "data"


def test_a_sqlite_store_from_before_versions_is_brought_up_to_date(tmp_path: Path) -> None:
    """A store written by udc 37ae045 (the last release without versions: user_version 0, chunk leases, counts and
    graph already there) opens at version 2 with its records, state, runs, chunk leases and counts as they were.
    (PostgreSQL stores were versioned from the first.)"""
    db = tmp_path / "udc.db"
    shutil.copy(DATA / "store-37ae045.db", db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (0,)
    store = open_store(f"sqlite:///{db}")
    assert store.schema_version() == len(sqlite.MIGRATIONS)  # type: ignore[attr-defined]
    assert store.get_state("p", "incident") == {"at": "2025-01-02"}
    assert [pk for pk, _, _ in store.iter_records("snow/incident")] == ["a1", "a2"]
    assert store.dataset_counts() == {"snow/incident": (2, 0)}
    assert [r["status"] for r in store.runs("p")] == ["ok"]
    running = store.chunks(1)[1]
    assert (running["status"], running["worker"], running["lease_until"]) == ("running", "h:1",
                                                                                "2026-12-04T03:56:55.383028Z")
    store.close()
    assert same_schema(db, tmp_path / "fresh.db")


def test_a_store_of_the_first_versioned_schema_gains_leases_counts_and_graph(tmp_path: Path) -> None:
    """Version 1 (the PostgreSQL branch's SQLite stores): chunks without leases, no counts, no graph, no monitoring
    indexes. Version 2 adds them; its records are counted and join the graph in the same transaction."""
    db = tmp_path / "udc.db"
    with sqlite3.connect(db) as conn:
        conn.executescript(sqlite.SCHEMA.replace(", worker TEXT, lease_until TEXT", ""))
        conn.execute("INSERT INTO records VALUES ('servicenow/incident', 'a1', '2025-01-01', ?, X'00', 0, 1, 1, "
                     "NULL)", ('{"number": "INC0000001", "short_description": "mail server down"}',))
        conn.execute("PRAGMA user_version = 1")
    store = open_store(f"sqlite:///{db}")
    assert store.schema_version() == len(sqlite.MIGRATIONS)  # type: ignore[attr-defined]
    assert store.dataset_counts() == {"servicenow/incident": (1, 0)}
    assert [node["key"] for node in store.find_nodes("INC0000001")] == ["INC0000001"]
    backfill = store.create_backfill({"pipeline": "p", "kind": "backfill", "range_end": "2025-03-01",
                                      "chunk_seconds": 86400, "parallel": 1, "max_attempts": 3}, [(None, "x")])
    claimed = store.claim_chunk(backfill, "h:7", 60)
    assert claimed is not None and claimed["worker"] == "h:7"
    store.close()
    assert same_schema(db, tmp_path / "fresh.db")


def same_schema(db: Path, fresh: Path) -> bool:
    """Whether a migrated store has the tables, columns and indexes a new store is created with."""
    open_store(f"sqlite:///{fresh}").close()

    def schema(path: Path) -> set[tuple[str, str]]:
        with sqlite3.connect(path) as conn:
            names = [name for name, in conn.execute("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")]
            return {(name, column) for name in names
                    for column in [row[1] for row in conn.execute(f"PRAGMA table_info('{name}')")] or [""]}

    return schema(db) == schema(fresh)
