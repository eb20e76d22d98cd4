"""Which store the tests run against: SQLite, or PostgreSQL in a schema of the test's own.

`python -m pytest --store postgresql` (or UDC_TEST_STORE=postgresql) runs the suite against PostgreSQL (the server in
UDC_TEST_PG, by default postgresql://postgres@127.0.0.1:5432/postgres); tests marked `both_stores` run against both
whatever is chosen. A PostgreSQL test is skipped, saying why, only when no server answers.
"""

from __future__ import annotations

import functools
import os
import subprocess
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

SERVER = os.environ.get("UDC_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
KINDS = ("sqlite", "postgresql")


class Backend:
    """The store of the test running now (set by the autouse `store_backend` fixture)."""

    kind = "sqlite"
    schemas: dict[Path, str] = {}  # PostgreSQL: each SQLite path a test names is a schema of its own

    @classmethod
    def store_url(cls, sqlite_path: Path) -> str:
        """The `store:` URL a test's config names: the SQLite file, or that file's PostgreSQL schema."""
        if cls.kind == "sqlite":
            return f"sqlite:///{sqlite_path}"
        return url_of(cls.schemas.setdefault(Path(sqlite_path), new_schema()))

    @classmethod
    def dump(cls, sqlite_path: Path) -> str:
        """Everything a PostgreSQL store holds, as SQL text (pg_dump of its schema)."""
        return subprocess.run(["pg_dump", "-n", cls.schemas[Path(sqlite_path)], SERVER.split("?")[0]],
                              capture_output=True, text=True, check=True).stdout


@functools.cache
def unreachable() -> str:
    """Why no PostgreSQL server answers, or "" when one does."""
    try:
        psycopg.connect(SERVER, connect_timeout=3).close()
    except psycopg.Error as exc:
        return " ".join(str(exc).split())
    return ""


def new_schema() -> str:
    """A fresh schema name (the store creates it)."""
    return f"udc_test_{uuid.uuid4().hex[:12]}"


def url_of(schema: str) -> str:
    return f"{SERVER}{'&' if '?' in SERVER else '?'}schema={schema}"


def drop_schema(schema: str) -> None:
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def mapped_files(pid: int | str) -> set[str]:
    """The files process `pid` ("self": this one) has memory-mapped (Linux)."""
    return {line.split()[-1] for line in Path(f"/proc/{pid}/maps").read_text().splitlines() if "/" in line}
