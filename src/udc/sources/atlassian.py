"""Helpers shared by the Atlassian sources (Jira, Confluence): minute-precision JQL/CQL date literals read in the
account's time zone, and Atlassian Document Format as plain text.

JQL and CQL dates are minute-precision and read in the *account's* zone (with DST), which is where naive connectors
lose records: a literal is chosen so that *every* reading of it (both sides of a DST fold, either side of a
spring-forward gap) lies on the safe side of the instant it stands for.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from udc.timeutil import EPOCH

JQL_MINUTE = "%Y/%m/%d %H:%M"
# Every UTC offset in use lies within [-12h, +14h]: the bounds when the account's zone cannot be read.
_MIN_OFFSET, _MAX_OFFSET = timedelta(hours=-12), timedelta(hours=14)


def _readings(local: datetime, tz: ZoneInfo | None) -> list[datetime]:
    """Every UTC instant a server might read the naive local minute `local` as."""
    if tz is None:
        return [local.replace(tzinfo=UTC) - _MAX_OFFSET, local.replace(tzinfo=UTC) - _MIN_OFFSET]
    return [local.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1)]


def lower_literal(instant: datetime, tz: ZoneInfo | None, overlap: timedelta = timedelta(minutes=1)
                  ) -> tuple[str, datetime]:
    """A JQL minute literal (and its earliest reading) whose every reading is at or before `instant - overlap`."""
    target = instant.astimezone(UTC) - overlap
    local = (target.astimezone(tz).replace(tzinfo=None) if tz else
             target.replace(tzinfo=None) + _MIN_OFFSET).replace(second=0, microsecond=0)
    while max(_readings(local, tz)) > target:  # DST gap or fold: step back until no reading is too late
        local -= timedelta(minutes=1)
    return local.strftime(JQL_MINUTE), min(_readings(local, tz))


def upper_literal(instant: datetime, tz: ZoneInfo | None) -> str:
    """A JQL minute literal whose every reading is at or after `instant` (an exclusive upper bound)."""
    target = instant.astimezone(UTC)
    local = target.astimezone(tz).replace(tzinfo=None) if tz else target.replace(tzinfo=None) + _MAX_OFFSET
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while min(_readings(local, tz)) < target:
        local += timedelta(minutes=1)
    return local.strftime(JQL_MINUTE)


def epoch_ms(instant: datetime) -> int:
    return (instant.astimezone(UTC) - EPOCH) // timedelta(milliseconds=1)


def adf_text(node: Any) -> str:
    """Plain text of an Atlassian Document Format node (v3 descriptions and comments); strings pass through."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return "".join(adf_text(n) for n in node)
    if not isinstance(node, dict):
        return str(node)
    kind = node.get("type")
    attrs = node.get("attrs") or {}
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji", "status"):
        return str(attrs.get("text") or attrs.get("shortName") or "")
    if kind in ("inlineCard", "blockCard", "embedCard"):
        return str(attrs.get("url") or "")
    if kind == "date":
        try:
            return datetime.fromtimestamp(int(attrs.get("timestamp", 0)) / 1000, UTC).strftime("%Y-%m-%d")
        except (TypeError, ValueError):
            return ""
    children = node.get("content") or []
    if kind == "doc":
        return "\n\n".join(t for t in (adf_text(c).strip("\n") for c in children) if t)
    if kind in ("bulletList", "orderedList"):
        start = int(attrs.get("order", 1) or 1)
        lines = []
        for i, item in enumerate(children):
            bullet = "-" if kind == "bulletList" else f"{start + i}."
            lines.append(f"{bullet} " + adf_text(item).strip("\n").replace("\n", "\n  "))
        return "\n".join(lines) + "\n"
    if kind == "listItem":
        return "\n".join(adf_text(c).strip("\n") for c in children)
    if kind == "table":
        return "\n".join(adf_text(row) for row in children) + "\n"
    if kind == "tableRow":
        return " | ".join(adf_text(cell).strip() for cell in children)
    text = "".join(adf_text(c) for c in children)
    if kind in ("paragraph", "heading", "codeBlock", "blockquote", "panel", "rule", "mediaSingle", "expand"):
        return text + "\n"
    return text
