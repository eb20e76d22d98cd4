"""What every graph query shares: its error, finding the record a user names, a record as a result shows it, and
the `--since` window."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from udc.errors import ConfigError
from udc.store.base import GraphQueries
from udc.timeutil import cursor_str, parse_duration, parse_time, utcnow


class QueryError(ConfigError):
    """A query that cannot be answered as asked: an unknown or ambiguous key, an unknown field (exit code 2)."""


def summary(node: dict[str, Any]) -> dict[str, Any]:
    """A record as results show it: where it lives, what it is called, its title and when it was opened."""
    source, _, table = str(node["dataset"]).partition("/")
    opened = node.get("opened")
    return {"id": node["id"], "source": source, "table": table, "key": node.get("key") or node["pk"],
            "pk": node["pk"], "title": node.get("title") or "", "opened": f"{opened[:19]}Z" if opened else None}


def resolve(store: GraphQueries, ref: str, source: str | None = None, table: str | None = None) -> dict[str, Any]:
    """The one live record `ref` names (a key, a number, a page id, a primary key), or a QueryError that says why
    not: unknown, or the same key in several sources (narrowed with --source/--table)."""
    found = [n for n in store.find_nodes(ref.strip())
             if (source is None or n["dataset"].partition("/")[0] == source)
             and (table is None or n["dataset"].partition("/")[2] == table)]
    if not found:
        where = f" in source {source}" if source else ""
        raise QueryError(f"no stored record is called '{ref}'{where}",
                         "give a key as the source shows it (INC0012345, OPS-42, a case number, a page id) or a "
                         "primary key; `udc search WORDS` finds records by their text")
    if len(found) > 1:
        places = ", ".join(sorted(f"{n['dataset']} ({n['pk']})" for n in found))
        raise QueryError(f"'{ref}' names {len(found)} records: {places}",
                         "say which with --source CONNECTOR (and --table TABLE)")
    return found[0]


def since_cursor(since: str | None, now: datetime | None = None) -> str | None:
    """`--since`: a duration back from now (30d, 12h) or a date, as a cursor string."""
    if not since:
        return None
    try:
        return cursor_str((now or utcnow()) - parse_duration(since))
    except ValueError:
        pass
    try:
        return cursor_str(parse_time(since))
    except ValueError:
        raise QueryError(f"--since '{since}' is neither a duration nor a date",
                         "write it like 30d, 12h or 2025-03-01") from None


def ago(delta: timedelta) -> str:
    """A short human duration: 40 min, 3 h 5 min, 2 d 4 h."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 90:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def table_of(node: dict[str, Any]) -> str:
    return str(node["dataset"]).partition("/")[2]


__all__ = ["QueryError", "ago", "resolve", "since_cursor", "summary", "table_of"]
