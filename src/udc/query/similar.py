"""`udc similar INC…`: past records of the same table with similar text (BM25 over the full-text index, the
record's own words as the query), raised when they share its CI, with the knowledge articles and problems linked
to them."""

from __future__ import annotations

import re
from typing import Any

from udc.query.common import QueryError, resolve, summary, table_of
from udc.query.search import fts_query
from udc.store.base import GraphQueries

SHARED_CI_BOOST = 1.5  # a past incident on the same CI is more likely the same failure
MAX_TERMS = 24  # the record's words looked at
QUERY_TERMS = 12  # the rarest of them searched for: rare words tell records apart, and keep the search cheap
COMMON = 2000  # a word in more records than this is too common to search for (unless too few are left)
ANSWER_TABLES = ("kb_knowledge", "problem")  # what a past incident can lead to
_TERM = re.compile(r"[^\W\d_][\w]{2,}")  # words of 3+ characters that start with a letter
_STOP = frozenset((  # words too common in tickets to tell two apart (BM25 weighs the rest)
    "the", "and", "for", "with", "was", "were", "has", "have", "had", "not", "but", "are", "this", "that", "from",
    "into", "onto", "over", "under", "after", "before", "when", "then", "than", "they", "them", "their", "there",
    "here", "what", "which", "who", "will", "would", "could", "should", "been", "being", "also", "only", "very",
    "about", "again", "please", "reported", "report", "user", "users", "issue", "issues", "ticket", "via", "per",
    "see", "seen"))


def terms(title: str, body: str) -> list[str]:
    """The record's distinctive words, title first: no stop words, no ids (hex or with digits in the middle)."""
    found: dict[str, None] = {}
    for word in _TERM.findall(f"{title}\n{body}"):
        word = word.lower()
        if word in _STOP or sum(c.isdigit() for c in word) > len(word) // 2:
            continue
        found[word] = None
        if len(found) == MAX_TERMS:
            break
    return list(found)


def _ci_of(data: dict[str, Any]) -> str:
    value = data.get("cmdb_ci")
    return str(value.get("value", "") if isinstance(value, dict) else value or "")


def similar(store: GraphQueries, ref: str, limit: int = 10, source: str | None = None) -> dict[str, Any]:
    """The `limit` records of `ref`'s table most similar to it, best first: each with `score`, `shared_ci` and
    `linked` (knowledge articles and problems linked to it)."""
    if limit < 1:
        raise QueryError(f"--limit {limit} is below 1", "give a limit of 1 or more")
    me = resolve(store, ref, source)
    words = terms(*store.node_text(me["id"]))
    result: dict[str, Any] = {"record": summary(me), "similar": []}
    if not words:
        return result
    mine = store.nodes([me["id"]], with_data=True)[me["id"]]["data"]
    counts = {w: store.match_count(fts_query(w), COMMON) for w in words}
    rare = sorted((w for w in words if counts[w] > 1), key=lambda w: counts[w])  # 1: only this record has it
    keep = [w for w in rare if counts[w] < COMMON][:QUERY_TERMS]
    # with no rare word, records holding three of its common words together, not any of them (in a large store
    # that is most records, all scored: seconds)
    query = fts_query(" ".join(keep), any_word=True) if keep else fts_query(" ".join(rare[:3]))
    hits = store.text_search(query, limit * 5, [me["dataset"]], exclude=[me["id"]]) if rare else []
    data = store.nodes([h["id"] for h in hits], with_data=True)
    ci = _ci_of(mine)
    ranked = []
    for hit in hits:
        shared = bool(ci) and _ci_of(data[hit["id"]]["data"]) == ci
        ranked.append((hit["score"] * (SHARED_CI_BOOST if shared else 1.0), shared, hit))
    ranked.sort(key=lambda r: -r[0])
    top = ranked[:limit]
    links = store.neighbours([hit["id"] for _, _, hit in top], ANSWER_TABLES)
    ends = store.nodes({x for link in links for x in (link["src"], link["dst"])})
    for score, shared, hit in top:
        linked = []
        for link in links:
            other = link["dst"] if link["src"] == hit["id"] else link["src"] if link["dst"] == hit["id"] else None
            if other is not None and other in ends and table_of(ends[other]) in ANSWER_TABLES:
                linked.append({**summary(ends[other]), "rel": link["rel"]})
        result["similar"].append({**summary(hit), "score": round(score, 3), "shared_ci": shared,
                                  "linked": sorted(linked, key=lambda n: n["key"])})
    return result


__all__ = ["similar", "terms"]
