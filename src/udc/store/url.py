"""`store:` URLs: the one place that reads them and opens the store they name."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from udc import secrets
from udc.errors import ConfigError
from udc.store.base import Store
from udc.store.locks import lock_dir
from udc.store.reader import StoreReader
from udc.store.sqlite import SqliteStore, exposed_files, sqlite_files
from udc.store.sqlite_reader import SqliteReader

if TYPE_CHECKING:  # mypy checks a PostgresStore is a Store; at run time it is loaded only when named
    from udc.store.postgres import PostgresStore

SUPPORTED = "sqlite:///path/to/udc.db or postgresql://user@host/database"


def parse_store_url(url: str) -> tuple[str, str]:
    """(kind, location): `sqlite:///udc.db` → ("sqlite", "udc.db"); `postgresql://…` → ("postgresql", the URL)."""
    if url.startswith("sqlite:///"):
        return "sqlite", _split(url)[0].removeprefix("sqlite:///") or "udc.db"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql", url
    raise ConfigError(f"unsupported store URL '{url}'", f"use {SUPPORTED}")


def open_store(url: str, password: str | None = None) -> Store:
    """`password`: a PostgreSQL store's (`store_password`), when libpq's own mechanisms do not give it."""
    kind, location = parse_store_url(url)
    if kind == "sqlite":
        return SqliteStore(location, key=_key(url))
    store: PostgresStore = _postgres().PostgresStore(url, password=password)
    return store


def open_reader(url: str, password: str | None = None) -> StoreReader:
    """The store for monitoring and the graph's questions: read-only, and refused (with the fix) when nothing has
    been synced yet. `password`: a PostgreSQL store's, when libpq's own mechanisms do not give it."""
    kind, location = parse_store_url(url)
    if kind == "sqlite":
        return SqliteReader(location, key=_key(url))
    from udc.store.postgres_reader import PostgresReader  # psycopg loads only for a PostgreSQL store
    reader: StoreReader = PostgresReader(url, password=password)
    return reader


def store_exists(url: str, password: str | None = None) -> bool:
    """Whether the store holds anything yet, without creating it."""
    kind, location = parse_store_url(url)
    if kind == "sqlite":
        return Path(location).exists()
    return bool(_postgres().store_exists(url, password))


def exposure_warnings(url: str) -> list[str]:
    """What `udc status` says about store files other users can read (mode, and the fix), if any."""
    kind, location = parse_store_url(url)
    if kind != "sqlite":
        return []
    return [f"{file} is readable or writable by other users (mode {mode:04o}): it holds the synced records; fix: "
            f"chmod {700 if file.is_dir() else 600} {file}" for file, mode in exposed_files(Path(location))]


def discard_new_store(url: str, store: Store) -> None:
    """Remove a store this command created, when it holds nothing: a first sync that the source refuses (a table it
    does not have) leaves no file behind. A store with anything in it (another process's, meanwhile) is kept."""
    if store.dataset_counts() or store.backfills() or store.runs(limit=1):
        return
    store.close()
    kind, location = parse_store_url(url)
    if kind == "sqlite":
        path = Path(location)
        for file in sqlite_files(path):
            file.unlink(missing_ok=True)
        shutil.rmtree(lock_dir(path), ignore_errors=True)
    else:
        postgres = _postgres()
        if isinstance(store, postgres.PostgresStore):
            store.destroy()


def _key(url: str) -> str | None:
    """The encryption key a SQLite store URL names, read now (by every command that opens the store) and scrubbed
    like every secret; None for a store without one."""
    ref = _split(url)[1]
    try:
        key = secrets.read_reference(ref) if ref else None
    except ValueError as exc:
        raise ConfigError(f"store: the encryption key: {exc}", "set it, or fix ?key= in `store:`") from None
    if key == "":
        raise ConfigError("store: the encryption key is empty", "set it to the store's key")
    if key is not None:
        secrets.register(key)
    return key


def _split(url: str) -> tuple[str, str | None]:
    """(the URL without its query, the reference after ?key= or None): the config checked its form."""
    base, _, query = url.partition("?")
    return base, query.removeprefix("key=") or None


def _postgres() -> ModuleType:
    # psycopg takes 0.2 s to load: only a PostgreSQL store pays it, not every command nor SQLite's writer process
    from udc.store import postgres
    return postgres


__all__ = ["discard_new_store", "exposure_warnings", "open_reader", "open_store", "parse_store_url", "store_exists"]
