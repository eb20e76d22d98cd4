"""What a person sees of the knowledge graph's answers (udc.query's dicts) in the terminal: one table each."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def _where(item: dict[str, Any]) -> str:
    return f"{item['source']}/{item['table']}"


def _highlight(snippet: str) -> str:
    """Matches (between « and ») in bold; the text itself escaped, so a [ in it is not markup."""
    return escape(snippet).replace("«", "[bold yellow]").replace("»", "[/]")


def print_search(hits: list[dict[str, Any]], out: Console) -> None:
    if not hits:
        out.print("no stored record matches")
        return
    if hits[0]["match"] == "any":
        out.print("no record holds every word; these hold some of them:")
    table = Table("key", "where", "opened", "title", "snippet", "score")
    for h in hits:
        table.add_row(escape(h["key"]), _where(h), (h["opened"] or "")[:10], escape(h["title"]),
                      _highlight(h["snippet"]), f"{h['score']:.1f}")
    out.print(table)


def print_related(answer: dict[str, Any], out: Console) -> None:
    me = answer["node"]
    out.print(f"[bold]{escape(me['key'])}[/] ({_where(me)}) {escape(me['title'])}")
    if not answer["nodes"]:
        out.print("no linked records are stored")
        return
    table = Table("depth", "key", "where", "title")
    for n in answer["nodes"]:
        table.add_row(str(n["depth"]), escape(n["key"]), _where(n), escape(n["title"]))
    out.print(table)
    links = Table("from", "link", "to")
    for link in answer["links"]:
        links.add_row(escape(link["src"]), escape(link["rel"]), escape(link["dst"]))
    out.print(links)
    if answer["truncated"]:
        out.print("(more records are linked: ask with a smaller --depth, or from one of these)")


def print_changes(answer: dict[str, Any], out: Console) -> None:
    inc = answer["incident"]
    cis = ", ".join(f"{c['key']} ({c['hops']})" for c in answer["cis"]) or "none stored"
    out.print(f"Changes in the {answer['hours']:g} h before [bold]{escape(inc['key'])}[/] "
              f"({escape(inc['title'])}) opened {inc['opened']} · CIs (hops): {escape(cis)}")
    if not answer["changes"]:
        out.print("no change on these CIs or linked to the incident overlaps that window")
        return
    table = Table("change", "title", "start", "end", "why")
    for c in answer["changes"]:
        table.add_row(escape(c["key"]), escape(c["title"]), c["start"], c["end"], escape(c["why"]))
    out.print(table)


def print_similar(answer: dict[str, Any], out: Console) -> None:
    me = answer["record"]
    out.print(f"Records like [bold]{escape(me['key'])}[/] ({escape(me['title'])})")
    if not answer["similar"]:
        out.print("nothing similar is stored")
        return
    table = Table("key", "opened", "title", "same CI", "score", "knowledge and problems")
    for s in answer["similar"]:
        linked = ", ".join(f"{x['key']} {x['title']}" for x in s["linked"])
        table.add_row(escape(s["key"]), (s["opened"] or "")[:10], escape(s["title"]), "yes" if s["shared_ci"] else "",
                      f"{s['score']:.1f}", escape(linked))
    out.print(table)


def print_trends(answer: dict[str, Any], out: Console) -> None:
    if not answer["buckets"]:
        out.print("no records in that period")
        return
    table = Table(answer["every"], escape(answer["by"]), "opened", "resolved", "backlog", "mean time to resolve (h)")
    for b in answer["buckets"]:
        table.add_row(b["bucket"], escape(b["value"]), str(b["opened"]), str(b["resolved"]), str(b["backlog"]),
                      "" if b["mttr_hours"] is None else f"{b['mttr_hours']:.1f}")
    out.print(table)


__all__ = ["print_changes", "print_related", "print_search", "print_similar", "print_trends"]
