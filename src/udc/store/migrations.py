"""Store schema versions: each store keeps the version of its tables (SQLite in `PRAGMA user_version`, PostgreSQL
in a `schema_version` table) and applies its migrations, in order, when it opens. A store written by a newer udc is
refused before anything is read or written: this udc would not know what its tables mean."""

from __future__ import annotations

from udc.errors import ConfigError


def check_version(found: int, known: int, location: str) -> None:
    """Refuse a store whose schema version is newer than the `known` one, saying what to do."""
    if found > known:
        raise ConfigError(f"the store at {location} was written by a newer udc (schema version {found}; this udc "
                          f"knows versions up to {known})",
                          "upgrade udc (pip install -U udc) to read it, or point `store:` at another store")


__all__ = ["check_version"]
