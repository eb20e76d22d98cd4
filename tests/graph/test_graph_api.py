"""`udc.open("udc.yaml")`: the same answers as `udc ... --json`, read-only, closed by `with`."""

from __future__ import annotations

import json
import sqlite3

import psycopg
import pytest

import udc
from udc.query import QueryError

from .conftest import Planted
from .test_graph_cli import udc as run


def test_answers_equal_the_cli_json(planted: Planted) -> None:
    config = str(planted.config)
    with udc.open(config) as graph:
        assert graph.changes(planted.incident) == json.loads(run("changes", "--for", planted.incident, "--json",
                                                                 "-c", config)[1])
        assert graph.similar(planted.incident, limit=3)["similar"][0]["key"] == planted.duplicate
        assert [h["key"] for h in graph.search("tablespace", table="change_request")] == [
            planted.changes["same_ci"]]
        assert {planted.problem, planted.article} <= {n["key"] for n in graph.related(planted.duplicate)["nodes"]}
        weeks = graph.trends("incident", "category", "week")["buckets"]
        assert sum(b["opened"] for b in weeks) == planted.store.dataset_counts("snow/incident")["snow/incident"][0]
        with pytest.raises(QueryError, match="no stored record is called 'INC9999999'"):
            graph.related("INC9999999")
        connection = graph.reader.connection  # type: ignore[attr-defined]
        if planted.kind == "sqlite":
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                connection.execute("DELETE FROM records")
        else:
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                connection.execute("DELETE FROM records")
    with pytest.raises((sqlite3.ProgrammingError, psycopg.OperationalError), match="closed"):
        connection.execute("SELECT 1")
