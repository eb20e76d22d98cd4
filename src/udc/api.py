"""The knowledge graph for Python callers: `udc.open("udc.yaml")` reads the config's store (read-only, never creating
it) and answers search, related, changes, similar and trends with the plain dicts `udc ... --json` prints."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

from udc import query
from udc.config import DEFAULT_CONFIG, load_config
from udc.store import StoreReader, open_reader


class KnowledgeGraph:
    """One read-only connection to a store; close it (or use `with`) when done. Questions that cannot be answered
    (an unknown key, an unknown field) raise udc.query.QueryError with the fix."""

    def __init__(self, reader: StoreReader) -> None:
        self.reader = reader

    def search(self, words: str, limit: int = 20, source: str | None = None, table: str | None = None,
               since: str | None = None) -> list[dict[str, Any]]:
        return query.search(self.reader, words, limit, source=source, table=table, since=since)

    def related(self, key: str, depth: int = 1, source: str | None = None) -> dict[str, Any]:
        return query.related(self.reader, key, depth, source=source)

    def changes(self, key: str, hours: float = 12, depth: int = 2, source: str | None = None) -> dict[str, Any]:
        return query.changes(self.reader, key, hours, depth, source=source)

    def similar(self, key: str, limit: int = 10, source: str | None = None) -> dict[str, Any]:
        return query.similar(self.reader, key, limit, source=source)

    def trends(self, table: str, by: str, every: str = "day", since: str | None = None) -> dict[str, Any]:
        return query.trends(self.reader, table, by, every, since)

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> KnowledgeGraph:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def open(config: str | Path = DEFAULT_CONFIG) -> KnowledgeGraph:  # noqa: A001 - the name the issue asks for
    """The knowledge graph of the store `config` names; of the config's secrets only `store_password` is read (no
    source is contacted)."""
    cfg = load_config(config, secrets_for=())
    return KnowledgeGraph(open_reader(cfg.store, cfg.store_secret()))
