"""`store:` URLs: the one place that reads them and opens the store they name."""

from __future__ import annotations

from pathlib import Path

from udc.errors import ConfigError
from udc.store.base import Store
from udc.store.sqlite import SqliteStore

SUPPORTED = "sqlite:///path/to/udc.db"


def parse_store_url(url: str) -> tuple[str, str]:
    """(kind, location): `sqlite:///udc.db` → ("sqlite", "udc.db"); `postgresql://…` → ("postgresql", the URL)."""
    if url.startswith("sqlite:///"):
        return "sqlite", url.removeprefix("sqlite:///") or "udc.db"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql", url
    raise ConfigError(f"unsupported store URL '{url}'", f"use {SUPPORTED}")


def open_store(url: str) -> Store:
    kind, location = parse_store_url(url)
    if kind == "sqlite":
        return SqliteStore(location)
    raise _not_yet(kind)


def store_exists(url: str) -> bool:
    """Whether the store holds anything yet, without creating it."""
    kind, location = parse_store_url(url)
    if kind == "sqlite":
        return Path(location).exists()
    raise _not_yet(kind)


def _not_yet(kind: str) -> ConfigError:
    return ConfigError(f"{kind} stores are not supported yet", f"use {SUPPORTED}")


__all__ = ["open_store", "parse_store_url", "store_exists"]
