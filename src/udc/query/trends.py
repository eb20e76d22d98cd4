"""`udc trends`: per day or week and per value of a field — opened, resolved, backlog at the bucket's end and mean
time to resolve."""

from __future__ import annotations

import difflib
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from udc.query.common import QueryError, since_cursor
from udc.store.base import GraphQueries
from udc.timeutil import parse_time

_RESOLVED_FIELDS = ("resolved_at", "closed_at", "resolutiondate", "ClosedDate")
_NONE = "(none)"


def _field(data: dict[str, Any], name: str) -> Any:
    if name in data:
        return data[name]
    fields = data.get("fields")
    return fields.get(name) if isinstance(fields, dict) else None


def _label(value: Any) -> str:
    if isinstance(value, dict):  # Jira's priority, status...: named objects
        value = value.get("name") or value.get("value") or value.get("key")
    return str(value) if value not in (None, "") else _NONE


def _resolved(data: dict[str, Any]) -> datetime | None:
    for name in _RESOLVED_FIELDS:
        value = _field(data, name)
        if isinstance(value, str) and value.strip():
            try:
                return parse_time(value)
            except ValueError:
                continue
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
    rows = store.opened_between(table, None, None)
    if not rows:
        raise QueryError(f"no stored records of a table called '{table}'",
                         "give a synced table (`udc status` lists them), like incident")
    fields = {name for row in rows[:500] for name in (*row["data"], *(row["data"].get("fields") or {}))}
    if by not in fields:
        guess = difflib.get_close_matches(by, sorted(fields), n=3)
        hint = f"did you mean {' or '.join(guess)}? " if guess else ""
        raise QueryError(f"{table} records have no field '{by}'", f"{hint}fields: {', '.join(sorted(fields)[:40])}")
    start = since_cursor(since, now)
    step = timedelta(days=7 if every == "week" else 1)
    events: dict[str, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    names: dict[str, str] = {}
    for row in rows:
        value = _label(_field(row["data"], by))
        if len(value) == 32 and value.isalnum():  # a ServiceNow reference: name it by its record
            if value not in names:
                found = store.find_nodes(value)
                names[value] = (found[0].get("title") or value) if len(found) == 1 else value
            value = names[value]
        events[value].append((parse_time(row["opened"]), _resolved(row["data"])))
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
