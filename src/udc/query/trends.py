"""`udc trends`: per day or week and per value of a field — opened, resolved, backlog at the bucket's end and mean
time to resolve."""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import orjson

from udc.query.common import QueryError, since_cursor
from udc.store.base import GraphQueries
from udc.timeutil import parse_time

_NONE = "(none)"


def _label(value: Any) -> str:
    if isinstance(value, str) and value.startswith("{"):  # Jira's priority, status...: named objects
        try:
            named = orjson.loads(value)
        except orjson.JSONDecodeError:
            named = None
        if isinstance(named, dict):
            value = named.get("name") or named.get("value") or named.get("key")
    return str(value) if value not in (None, "") else _NONE


def _name(store: GraphQueries, raw: Any) -> str:
    """A value as trends show it: a ServiceNow reference is named by its record's title, when it is stored."""
    label = _label(raw)
    if len(label) == 32 and label.isalnum():
        found = store.find_nodes(label)
        return (found[0].get("title") or label) if len(found) == 1 else label
    return label


def _bucket(when: datetime, every: str) -> date:
    day = when.date()
    return day - timedelta(days=day.weekday()) if every == "week" else day


def trends(store: GraphQueries, table: str, by: str, every: str = "day", since: str | None = None,
           now: datetime | None = None) -> dict[str, Any]:
    """Rows per (bucket, value of `by`) for records of `table` (in any source): `opened` and `resolved` in the
    bucket, `backlog` (opened by its end and not resolved by then) and `mttr_hours` (of those resolved in it).
    A reference field counts by the referenced record's title when it is stored."""
    if every not in ("day", "week"):
        raise QueryError(f"--every '{every}' is not day or week", "give --every day or --every week")
    fields = store.table_fields(table)
    if not fields:
        raise QueryError(f"no stored records of a table called '{table}'",
                         "give a synced table (`udc status` lists them), like incident")
    if by not in fields:
        guess = difflib.get_close_matches(by, fields, n=3)
        hint = f"did you mean {' or '.join(guess)}? " if guess else ""
        raise QueryError(f"{table} records have no field '{by}'", f"{hint}fields: {', '.join(fields[:40])}")
    start = since_cursor(since, now)
    opened: Counter[tuple[str, str]] = Counter()  # (bucket, value): records opened in it
    resolved: Counter[tuple[str, str]] = Counter()  # resolved in it
    seconds: defaultdict[tuple[str, str], float] = defaultdict(float)  # their time to resolve, summed
    closed: Counter[tuple[str, str]] = Counter()  # opened and resolved by its end (out of the backlog)
    names: dict[Any, str] = {}
    for kind, day, raw, count, spent in store.trend_counts(table, by, every):
        if raw not in names:
            names[raw] = _name(store, raw)
        key = (day, names[raw])
        if kind == "opened":
            opened[key] += count
        elif kind == "resolved":
            resolved[key] += count
            seconds[key] += spent or 0.0
        else:
            closed[key] += count
    if not opened:
        return {"table": table, "by": by, "every": every, "buckets": []}
    values = sorted({value for _, value in opened})
    first = date.fromisoformat(min(day for day, _ in opened))
    last = date.fromisoformat(max(day for day, _ in opened | closed))
    shown = max(first, _bucket(parse_time(start), every)) if start else first
    step = timedelta(days=7 if every == "week" else 1)
    backlog: Counter[str] = Counter()  # per value, at the end of the bucket
    buckets = []
    at = first
    while at <= last:
        day = at.isoformat()
        for value in values:
            key = (day, value)
            backlog[value] += opened[key] - closed[key]
            if at >= shown and (opened[key] or resolved[key] or backlog[value]):
                buckets.append({"bucket": day, "value": value, "opened": opened[key], "resolved": resolved[key],
                                "backlog": backlog[value], "mttr_hours": round(seconds[key] / resolved[key] / 3600, 2)
                                if resolved[key] else None})
        at += step
    return {"table": table, "by": by, "every": every, "buckets": buckets}


__all__ = ["trends"]
