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


def older_store(found: int, location: str) -> ConfigError:
    """What a reader says of a store an older udc left: only a writer upgrades it, and any udc command that opens the
    store for writing does."""
    return ConfigError(f"the store at {location} was written by an older udc (schema version {found}) and is "
                       "upgraded when this udc first writes it; a reader cannot",
                       "run `udc status` (or any sync) once with this udc, then read it again")


__all__ = ["check_version", "older_store"]
