"""`udc related`: a record's neighbourhood, links both ways, typed, with the records' titles."""

from __future__ import annotations

from typing import Any

from udc.query.common import QueryError, resolve, summary
from udc.store.base import GraphQueries


def related(store: GraphQueries, ref: str, depth: int = 1, source: str | None = None, max_nodes: int = 200
            ) -> dict[str, Any]:
    """The records within `depth` links of `ref` (both directions), each with its distance, and the links among
    them as (src key, rel, dst key). Stops widening once `max_nodes` are found (`truncated` says so)."""
    if not 1 <= depth <= 4:
        raise QueryError(f"--depth {depth} is out of range", "give a depth from 1 to 4")
    start = resolve(store, ref, source)
    distance = {start["id"]: 0}
    links: dict[tuple[int, str, int], None] = {}
    frontier = [start["id"]]
    truncated = False
    for hop in range(1, depth + 1):
        found: list[int] = []
        for link in store.neighbours(frontier):
            links[(link["src"], link["rel"], link["dst"])] = None
            for end in (link["src"], link["dst"]):
                if end not in distance:
                    if len(distance) >= max_nodes:
                        truncated = True
                        continue
                    distance[end] = hop
                    found.append(end)
        frontier = found
        if not frontier:
            break
    nodes = store.nodes(distance)
    keep = [(s, r, d) for s, r, d in links if s in nodes and d in nodes]
    return {
        "node": summary(nodes[start["id"]]),
        "nodes": sorted(({**summary(n), "depth": distance[i]} for i, n in nodes.items() if i != start["id"]),
                        key=lambda n: (n["depth"], n["source"], n["table"], n["key"])),
        "links": [{"src": summary(nodes[s])["key"], "rel": r, "dst": summary(nodes[d])["key"]} for s, r, d in keep],
        "truncated": truncated,
    }


__all__ = ["related"]
