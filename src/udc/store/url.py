"""`store:` URLs: the one place that reads them and opens the store they name."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import ModuleType

from udc.errors import ConfigError
from udc.store.base import Store
from udc.store.locks import lock_dir
from udc.store.sqlite import SqliteStore, sqlite_files

SUPPORTED = "sqlite:///path/to/udc.db or postgresql://user@host/database"


def parse_store_url(url: str) -> tuple[str, str]:
    """(kind, location): `sqlite:///udc.db` → ("sqlite", "udc.db"); `postgresql://…` → ("postgresql", the URL)."""
    if url.startswith("sqlite:///"):
        return "sqlite", url.removeprefix("sqlite:///") or "udc.db"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql", url
    raise ConfigError(f"unsupported store URL '{url}'", f"use {SUPPORTED}")


def open_store(url: str, password: str | None = None) -> Store:
    """`password`: a PostgreSQL store's (`store_password`), when libpq's own mechanisms do not give it."""
    kind, location = parse_store_url(url)
    if kind == "sqlite":
        return SqliteStore(location)
    store: Store = _postgres().PostgresStore(url, password=password)
    return store


def store_exists(url: str, password: str | None = None) -> bool:
    """Whether the store holds anything yet, without creating it."""
    kind, location = parse_store_url(url)
    if kind == "sqlite":
        return Path(location).exists()
    return bool(_postgres().store_exists(url, password))


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


def _postgres() -> ModuleType:
    # psycopg takes 0.2 s to load: only a PostgreSQL store pays it, not every command nor SQLite's writer process
    from udc.store import postgres
    return postgres


__all__ = ["discard_new_store", "open_store", "parse_store_url", "store_exists"]
