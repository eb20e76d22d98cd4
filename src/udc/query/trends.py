"""`udc trends`: per day or week and per value of a field — opened, resolved, backlog at the bucket's end and mean
time to resolve."""

from __future__ import annotations

import difflib
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import orjson

from udc.query.common import QueryError, since_cursor
from udc.store.base import GraphQueries
from udc.timeutil import parse_time

_RESOLVED_FIELDS = ("resolved_at", "closed_at", "resolutiondate", "ClosedDate")
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


def _time(value: Any) -> datetime | None:
    if isinstance(value, str) and value.strip():
        try:
            return parse_time(value)
        except ValueError:
            return None
    return None


def _bucket(when: datetime, every: str) -> datetime:
    day = when.replace(hour=0, minute=0, second=0, microsecond=0)
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
    step = timedelta(days=7 if every == "week" else 1)
    events: dict[str, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    names: dict[str, str] = {}
    for opened_at, value, *resolved in store.field_rows(table, [by, *_RESOLVED_FIELDS]):
        label = _label(value)
        if len(label) == 32 and label.isalnum():  # a ServiceNow reference: name it by its record
            if label not in names:
                found = store.find_nodes(label)
                names[label] = (found[0].get("title") or label) if len(found) == 1 else label
            label = names[label]
        closed = next((t for t in map(_time, resolved) if t is not None), None)
        events[label].append((parse_time(opened_at), closed))
    if not events:
        return {"table": table, "by": by, "every": every, "buckets": []}
    first = min(_bucket(o, every) for evs in events.values() for o, _ in evs)
    last = _bucket(max(max(o, r or o) for evs in events.values() for o, r in evs), every)
    if start:
        first = max(first, _bucket(parse_time(start), every))
    buckets = []
    at = first
    while at <= last:
        end = at + step
        for value in sorted(events):
            evs = events[value]
            opened = sum(at <= o < end for o, _ in evs)
            done = [r - o for o, r in evs if r is not None and at <= r < end]
            backlog = sum(o < end and (r is None or r >= end) for o, r in evs)
            if opened or done or backlog:
                buckets.append({"bucket": at.strftime("%Y-%m-%d"), "value": value, "opened": opened,
                                "resolved": len(done), "backlog": backlog,
                                "mttr_hours": round(sum(d.total_seconds() for d in done) / len(done) / 3600, 2)
                                if done else None})
        at = end
    return {"table": table, "by": by, "every": every, "buckets": buckets}


__all__ = ["trends"]
