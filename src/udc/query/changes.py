"""`udc changes --for INC…`: what changed before this incident — change requests on the incident's CI or near it in
the CMDB, or linked to the incident, planned or carried out in the hours before it opened."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from udc.query.common import QueryError, ago, resolve, summary, table_of
from udc.store.base import GraphQueries
from udc.timeutil import cursor_str, parse_time

CHANGE_TABLES = ("change_request",)
# when a change was planned or carried out: the first field present, for its start and for its end
_START_FIELDS = ("work_start", "start_date", "opened_at", "sys_created_on")
_END_FIELDS = ("work_end", "end_date", "closed_at")  # the store's `during` reads the same


def _is_ci(node: dict[str, Any]) -> bool:
    return table_of(node).startswith("cmdb_ci")


def _time(data: dict[str, Any], names: tuple[str, ...]) -> datetime | None:
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            try:
                return parse_time(value)
            except ValueError:
                continue
    return None


def changes(store: GraphQueries, ref: str, hours: float = 12, depth: int = 2, source: str | None = None
            ) -> dict[str, Any]:
    """Changes whose CI is the incident's CI or within `depth` CMDB hops of it, or that are linked to the incident,
    whose time (start to end) overlaps the `hours` before it opened; nearest first (topology distance plus time
    before the incident as a share of the window), each with `why`."""
    if hours <= 0:
        raise QueryError(f"--hours {hours} is not positive", "give a window of hours before the incident, like 12")
    incident = resolve(store, ref, source)
    if not incident.get("opened"):
        raise QueryError(f"{incident['key'] or incident['pk']} has no opened time",
                         "ask about a task record (incident, problem, change) that has opened_at")
    opened = parse_time(incident["opened"])
    window_start = opened - timedelta(hours=hours)
    # hop 0: the incident's own CIs (its cmdb_ci, its affected CIs); changes linked to the incident count as hop 0
    hop: dict[int, int] = {}
    via: dict[int, int] = {}
    candidates: dict[int, tuple[int, int | None, str]] = {}  # change id → (hops, CI id or None, rel)
    around = store.nodes([x for link in store.neighbours([incident["id"]], ("cmdb_ci", *CHANGE_TABLES))
                          for x in (link["src"], link["dst"])])
    for other in around.values():
        if other["id"] == incident["id"]:
            continue
        if _is_ci(other):
            hop.setdefault(other["id"], 0)
        elif table_of(other) in CHANGE_TABLES:
            candidates[other["id"]] = (0, None, "linked")
    frontier = list(hop)
    for distance in range(depth + 1):
        if not frontier:
            break
        # changes outside the window are left out by the store (it reads the changes around it, not every one ever)
        links = store.neighbours(frontier, ("cmdb_ci", *CHANGE_TABLES), (cursor_str(window_start), incident["opened"]))
        ends = store.nodes({x for link in links for x in (link["src"], link["dst"])})
        found = []
        for link in links:
            for here, there in ((link["src"], link["dst"]), (link["dst"], link["src"])):
                if here not in frontier or there not in ends:
                    continue
                other = ends[there]
                if table_of(other) in CHANGE_TABLES:
                    if there not in candidates or candidates[there][0] > distance:
                        candidates[there] = (distance, here, link["rel"])
                elif _is_ci(other) and there not in hop and distance < depth:
                    hop[there], via[there] = distance + 1, here
                    found.append(there)
        frontier = found
    records = store.nodes(candidates, fields=(*_START_FIELDS, *_END_FIELDS))
    cis = store.nodes(hop)
    results = []
    for change_id, (distance, ci, _rel) in candidates.items():
        change = records[change_id]
        data = change["fields"]
        start = _time(data, _START_FIELDS)
        end = _time(data, _END_FIELDS) or start
        if start is None or end is None or start > opened or end < window_start:
            continue
        before = opened - min(end, opened)
        if ci is None:
            where = "linked to the incident"
        elif distance == 0:
            where = f"same CI {cis[ci]['title'] or cis[ci]['pk']}"
        else:
            path = [ci]
            while path[-1] in via:
                path.append(via[path[-1]])
            names = " → ".join(cis[c]["title"] or cis[c]["pk"] for c in path)
            where = f"CI {distance} hop{'s' if distance > 1 else ''} away ({names})"
        when = "in progress when it opened" if end >= opened else f"ended {ago(before)} before"
        results.append({**summary(change), "ci": cis[ci]["title"] if ci is not None else None, "hops": distance,
                        "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "end": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "score": round(distance + before / timedelta(hours=hours), 3), "why": f"{where}, {when}"})
    results.sort(key=lambda r: (r["score"], r["key"]))
    return {"incident": summary(incident), "hours": hours,
            "cis": [{"key": cis[c]["title"] or cis[c]["pk"], "hops": h} for c, h in sorted(hop.items(),
                                                                                           key=lambda x: x[1])],
            "changes": results}


__all__ = ["changes"]
