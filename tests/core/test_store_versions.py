"""Store schema versions: a new store is created at this udc's version, an older one is brought up to it when it
opens (data kept), and one written by a newer udc is refused, saying so, before anything is read or written."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stores import Backend
from udc.errors import ConfigError
from udc.store import PageWrite, Store, open_store, postgres, sqlite


def migrations(store: Store) -> tuple[str, ...]:
    return sqlite.MIGRATIONS if isinstance(store, sqlite.SqliteStore) else postgres.MIGRATIONS


def set_version(store: Store, version: int) -> None:
    if isinstance(store, sqlite.SqliteStore):
        store.execute(f"PRAGMA user_version = {version}")
    else:
        store.execute("UPDATE schema_version SET version = %s", (version,))


@pytest.mark.both_stores
def test_a_new_store_is_at_this_udcs_version(store: Store) -> None:
    assert store.schema_version() == len(migrations(store)) == 1  # type: ignore[attr-defined]


@pytest.mark.both_stores
def test_an_older_store_is_migrated_when_opened_and_keeps_its_data(store: Store, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    store.write(PageWrite("s/t", [("a", "2025-01-01", {"v": 1})]), 1)
    store.close()
    module = sqlite if isinstance(store, sqlite.SqliteStore) else postgres
    later = "ALTER TABLE runs ADD COLUMN note TEXT;\nCREATE INDEX runs_by_note ON runs (note);\n"
    monkeypatch.setattr(module, "MIGRATIONS", (*module.MIGRATIONS, later))
    again = open_store(Backend.store_url(tmp_path / "udc.db"))
    assert again.schema_version() == 2  # type: ignore[attr-defined]
    assert [(pk, rec) for pk, rec, _ in again.iter_records("s/t")] == [("a", {"v": 1})]
    again.execute("UPDATE runs SET note = 'n'")  # the new column is there
    again.close()


@pytest.mark.both_stores
def test_a_store_from_a_newer_udc_is_refused_before_anything_is_read(store: Store, tmp_path: Path) -> None:
    set_version(store, 7)
    store.close()
    with pytest.raises(ConfigError, match=r"written by a newer udc \(schema version 7; this udc knows versions up "
                                          r"to 1\)") as refused:
        open_store(Backend.store_url(tmp_path / "udc.db"))
    assert "upgrade udc" in refused.value.hint
    config = tmp_path / "udc.yaml"
    config.write_text(yaml.safe_dump({
        "store": Backend.store_url(tmp_path / "udc.db"),
        "connectors": {"snow": {"type": "servicenow", "instance_url": "http://127.0.0.1:9",
                                "auth": {"type": "basic", "username": "u", "password": "secret-pw"}}},
        "pipelines": {"p": {"connector": "snow", "tables": ["incident"]}}}))
    status = subprocess.run([sys.executable, "-m", "udc", "status", "--config", str(config)], capture_output=True,
                            text=True)
    assert status.returncode == 2 and "written by a newer udc" in status.stderr, status.stderr


def test_a_sqlite_store_from_before_versions_is_stamped_as_version_1(tmp_path: Path) -> None:
    """(PostgreSQL stores were versioned from the first.)"""
    db = tmp_path / "udc.db"
    with sqlite3.connect(db) as conn:  # the tables as udc wrote them before it kept a version
        conn.executescript(sqlite.SCHEMA)
        conn.execute("INSERT INTO state VALUES ('p', 's', '{\"at\": 1}', 'now')")
    assert open_store(f"sqlite:///{db}").get_state("p", "s") == {"at": 1}
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (1,)
