"""Encryption at rest for the embedded store: SQLCipher (AES-256, every page of the database and its WAL) through
the maintained `sqlcipher3` binding, installed with `pip install 'udc[encrypt]'`. A store without a key uses the
standard library's sqlite3, unchanged; the binding is imported only for an encrypted one."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from udc.errors import ConfigError, StoreError

_HEADER = b"SQLite format 3\x00"  # the first bytes of every unencrypted SQLite file


def driver(key: str | None) -> ModuleType:
    """The DB-API module for a store: sqlite3, or SQLCipher's when the store has a key."""
    if key is None:
        return sqlite3
    try:
        from sqlcipher3 import dbapi2
    except ImportError:
        raise ConfigError("the store has a key (encryption at rest) but SQLCipher is not installed",
                          "install it with: pip install 'udc[encrypt]'") from None
    module: ModuleType = dbapi2
    return module


def errors() -> tuple[type[Exception], ...]:
    """The database errors a store may raise: sqlite3's, and SQLCipher's once it is loaded."""
    cipher = sys.modules.get("sqlcipher3.dbapi2")
    return (sqlite3.Error, cipher.Error) if cipher is not None else (sqlite3.Error,)


def unlock(conn: Any, key: str | None) -> None:
    """Give a new connection its key, before anything else reads the file."""
    if key is not None:
        conn.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is our StoreError, not lines on stderr
        conn.execute("PRAGMA key = '{}'".format(key.replace("'", "''")))
        # SQLCipher takes the store's `page_size=8192` (udc.store.sqlite) as its cipher page size: every connection,
        # the read-only one included, must decrypt with the same
        conn.execute("PRAGMA cipher_page_size = 8192")


def wrong_key(path: Path) -> StoreError:
    """Why a store reads as "not a database" when the URL gives a key: a wrong key, or a store never encrypted."""
    try:
        with path.open("rb") as file:
            plain = file.read(len(_HEADER)) == _HEADER
    except OSError:
        plain = False
    if plain:
        return StoreError(f"the store {path} is not encrypted, but the store URL gives a key",
                          "remove ?key=... from `store:` to use it as it is; to encrypt, sync into a new store path "
                          "with the key")
    return StoreError(f"the store {path} cannot be opened with this key: the key is wrong (or the file is not a "
                      "udc store)", "give the key it was created with in `store: sqlite:///...?key=env:NAME`")
