"""`udc store copy`: move a whole store into another (SQLite ↔ PostgreSQL), resumable."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

import typer

from udc.cli.common import out
from udc.errors import ConfigError
from udc.store import open_store, parse_store_url, store_exists
from udc.store.copy import copy_store

FromOpt = Annotated[str, typer.Option("--from", help="The store to copy: sqlite:///path or postgresql://…")]
ToOpt = Annotated[str, typer.Option("--to", help="The store to copy into (new, or one this copy started)")]


def copy(source_url: FromOpt, target_url: ToOpt,
         batch: Annotated[int, typer.Option("--batch", min=1, help="Rows per transaction")] = 2000) -> None:
    """Copy every record, position, run, backfill and chunk of one store into another; run again to resume."""
    for url in (source_url, target_url):
        parse_store_url(url)  # an unknown kind is refused with the ones udc knows
        if url.startswith("postgres") and urlsplit(url).password is not None:
            raise ConfigError("a password in a store URL on the command line is visible to every user of this "
                              "machine (ps, shell history)", "remove it and give it to libpq: PGPASSWORD or ~/.pgpass")
    if parse_store_url(source_url) == parse_store_url(target_url):
        raise ConfigError("--from and --to name the same store", "copy into another store")
    if not store_exists(source_url):
        raise ConfigError(f"there is no store at {parse_store_url(source_url)[1]}", "check --from")
    source, target = open_store(source_url), open_store(target_url)
    try:
        copied = copy_store(source, target, batch)  # type: ignore[arg-type]  # both stores can be copied
    finally:
        source.close()
        target.close()
    out.print(f"copied {source.location} → {target.location}")
    for table, rows in copied.items():
        out.print(f"  {table:<17} {rows:>10,} rows")
