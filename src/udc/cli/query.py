"""The knowledge graph's commands: search, related, changes, similar, trends. Each reads the store (never creating
one) and prints a table, or with --json the answer udc.query gives Python callers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from udc.answers import print_changes, print_related, print_search, print_similar, print_trends
from udc.cli.common import ConfigOpt, existing_store, out
from udc.config import DEFAULT_CONFIG, load_config
from udc.query import changes as changes_query
from udc.query import related as related_query
from udc.query import search as search_query
from udc.query import similar as similar_query
from udc.query import trends as trends_query
from udc.store import Store

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")]
SourceOpt = Annotated[str | None, typer.Option("--source", help="Only this connector's records.")]


def _store(config: Path) -> Store:
    return existing_store(load_config(config, secrets_for=()))


def _json(answer: Any) -> None:
    out.print(orjson.dumps(answer).decode(), markup=False, highlight=False)


def search(words: Annotated[str, typer.Argument(help="Words to find, e.g. \"disk full on db01\".")],
           source: SourceOpt = None,
           table: Annotated[str | None, typer.Option("--table", help="Only this table (of any source).")] = None,
           since: Annotated[str | None, typer.Option("--since", help="Opened since: 30d, 12h or a date.")] = None,
           limit: Annotated[int, typer.Option("--limit", help="At most this many hits.")] = 20,
           config: ConfigOpt = Path(DEFAULT_CONFIG), json_out: JsonOpt = False) -> None:
    """Full-text search across every source, best first, with the matching words highlighted."""
    hits = search_query(_store(config), words, limit, source=source, table=table, since=since)
    _json(hits) if json_out else print_search(hits, out)


def related(key: Annotated[str, typer.Argument(help="INC0012345, OPS-42, a case number, a page id or a sys_id.")],
            depth: Annotated[int, typer.Option("--depth", help="Links away, 1 to 4.")] = 1,
            source: SourceOpt = None, config: ConfigOpt = Path(DEFAULT_CONFIG), json_out: JsonOpt = False) -> None:
    """A record's neighbourhood: linked records both ways, typed, with titles."""
    answer = related_query(_store(config), key, depth, source=source)
    _json(answer) if json_out else print_related(answer, out)


def changes(key: Annotated[str, typer.Option("--for", help="The incident, e.g. INC0012345.")],
            hours: Annotated[float, typer.Option("--hours", help="How far back before it opened.")] = 12,
            depth: Annotated[int, typer.Option("--depth", help="CMDB hops from its CI.")] = 2,
            source: SourceOpt = None, config: ConfigOpt = Path(DEFAULT_CONFIG), json_out: JsonOpt = False) -> None:
    """What changed before this incident: changes on its CI, near it in the CMDB, or linked to it."""
    answer = changes_query(_store(config), key, hours, depth, source=source)
    _json(answer) if json_out else print_changes(answer, out)


def similar(key: Annotated[str, typer.Argument(help="The record to match, e.g. INC0012345.")],
            limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 10,
            source: SourceOpt = None, config: ConfigOpt = Path(DEFAULT_CONFIG), json_out: JsonOpt = False) -> None:
    """Records like this one (text, then a shared CI), with the knowledge articles and problems linked to them."""
    answer = similar_query(_store(config), key, limit, source=source)
    _json(answer) if json_out else print_similar(answer, out)


def trends(table: Annotated[str, typer.Option("--table", help="e.g. incident")],
           by: Annotated[str, typer.Option("--by", help="A field: category, priority, cmdb_ci, ...")],
           every: Annotated[str, typer.Option("--every", help="day or week")] = "day",
           since: Annotated[str | None, typer.Option("--since", help="From: 90d or a date.")] = None,
           config: ConfigOpt = Path(DEFAULT_CONFIG), json_out: JsonOpt = False) -> None:
    """Opened, resolved, backlog and mean time to resolve per day or week and per value of a field."""
    answer = trends_query(_store(config), table, by, every, since)
    _json(answer) if json_out else print_trends(answer, out)
