"""`udc search|related|changes|similar|trends` on the planted store: tables, --json, and clear refusals."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from udc.cli import app

from .conftest import Planted


def udc(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_changes_and_similar_as_tables_and_json(planted: Planted) -> None:
    code, text, _ = udc("changes", "--for", planted.incident, "-c", str(planted.config))
    assert code == 0 and "same CI db01, ended 40 min before" in text and planted.changes["two_hops"] in text
    code, text, _ = udc("changes", "--for", planted.incident, "--hours", "1", "--json", "-c", str(planted.config))
    assert code == 0
    assert [c["key"] for c in json.loads(text)["changes"]] == [planted.changes["same_ci"],
                                                               planted.changes["one_hop_running"]]
    code, text, _ = udc("similar", planted.incident, "--limit", "3", "--json", "-c", str(planted.config))
    assert code == 0 and json.loads(text)["similar"][0]["key"] == planted.duplicate
    code, text, _ = udc("similar", planted.incident, "-c", str(planted.config))
    assert code == 0 and planted.duplicate in text and planted.problem in text


def test_search_related_trends(planted: Planted) -> None:
    code, text, _ = udc("search", "tablespace", "--table", "change_request", "--json", "-c", str(planted.config))
    assert code == 0 and [h["key"] for h in json.loads(text)] == [planted.changes["same_ci"]]
    code, text, _ = udc("search", "ORA-01653", "-c", str(planted.config))
    assert code == 0 and planted.incident in text
    code, text, _ = udc("related", planted.duplicate, "--json", "-c", str(planted.config))
    assert code == 0 and {planted.problem, planted.article} <= {n["key"] for n in json.loads(text)["nodes"]}
    code, text, _ = udc("trends", "--table", "incident", "--by", "category", "--every", "week", "--json",
                        "-c", str(planted.config))
    buckets = json.loads(text)["buckets"]
    assert code == 0 and sum(b["opened"] for b in buckets) == planted.store.dataset_counts("snow/incident")[
        "snow/incident"][0]


def test_refusals_name_the_fix_and_exit_2(planted: Planted) -> None:
    code, text, err = udc("changes", "--for", "INC9999999", "--json", "-c", str(planted.config))
    assert code == 2 and json.loads(text)["error"] == "no stored record is called 'INC9999999'"
    code, _, err = udc("trends", "--table", "incident", "--by", "priorty", "-c", str(planted.config))
    assert code == 2 and "did you mean priority" in err
    code, text, _ = udc("search", "zyxxyqqq", "-c", str(planted.config))
    assert code == 0 and "no stored record matches" in text
