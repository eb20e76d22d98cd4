"""`udc search`: BM25-ranked full-text hits across every source, with a highlighted snippet."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from udc.query.common import QueryError, since_cursor, summary
from udc.store.base import GraphQueries

_WORD = re.compile(r"\w+(?:[-.]\w+)*")


def fts_query(text: str, any_word: bool = False) -> str:
    """Words as quoted FTS5 terms (so no word is read as an operator), all of them required, or any of them; a
    word such as `OPS-42` or `db01.corp` needs all its parts."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))
    terms = []
    for word in words:
        parts = [f'"{p}"' for p in re.split(r"[\W_]+", word) if p]  # the tokenizer's own separators
        terms.append(parts[0] if len(parts) == 1 else f"({' AND '.join(parts)})")
    return (" OR " if any_word else " AND ").join(terms)


def datasets_for(store: GraphQueries, source: str | None, table: str | None) -> list[str]:
    """The dataset filter: a source's datasets, a table of any source, or one of both."""
    if source and table:
        return [f"{source}/{table}"]
    if table:
        return [table]
    if source:
        found = [d for d in store.graph_datasets() if d.partition("/")[0] == source]
        if not found:
            raise QueryError(f"nothing is stored from a source called '{source}'",
                             "give a connector name from udc.yaml that has been synced (`udc status`)")
        return found
    return []


def search(store: GraphQueries, q: str, limit: int = 20, source: str | None = None, table: str | None = None,
           since: str | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """Records whose text matches every word of `q` (or, when none does, any word), best first: each with
    `score` (BM25, higher is better), `snippet` (matches between « and ») and `match` ("all" or "any")."""
    if not fts_query(q):
        raise QueryError("the search has no words", "give words to look for, like `udc search \"disk full db01\"`")
    if limit < 1:
        raise QueryError(f"--limit {limit} is below 1", "give a limit of 1 or more")
    datasets = datasets_for(store, source, table)
    start = since_cursor(since, now)
    for any_word in (False, True):
        hits = store.text_search(fts_query(q, any_word), limit, datasets, start)
        if hits:
            match = "any" if any_word else "all"
            return [{**summary(h), "score": h["score"], "snippet": " ".join(h["snippet"].split()),
                     "match": match} for h in hits]
    return []


__all__ = ["datasets_for", "fts_query", "search"]
