"""The knowledge graph through the service: the graph API and the search page answer from the read-only
connection, as `udc search` etc. do from the store."""

from __future__ import annotations

from udc import query
from udc.serve.app import _highlighted

from .conftest import Filled


def an_incident(filled: Filled) -> tuple[str, str]:
    """An incident's number and the first word of its short description, as the store holds them."""
    for _, record, deleted in filled.store.iter_records("snow/incident"):
        words = [w for w in str(record.get("short_description") or "").split() if w.isalpha() and len(w) > 3]
        if not deleted and words:
            return str(record["number"]), words[0]
    raise AssertionError("no incident with a description was synced")


def test_graph_api_answers_as_udc_query_does(filled: Filled) -> None:
    client = filled.app()
    number, word = an_incident(filled)
    hits = client.get("/api/search", params={"q": number}).json()
    assert [h["key"] for h in hits][:1] == [number]
    assert hits == query.search(filled.store, number, 20)
    worded = client.get("/api/search", params={"q": word, "table": "incident", "limit": 5}).json()
    assert 0 < len(worded) <= 5 and all(h["table"] == "incident" for h in worded)
    assert all("«" in h["snippet"] for h in worded)
    assert client.get(f"/api/related/{number}").json() == query.related(filled.store, number)
    assert client.get(f"/api/similar/{number}", params={"limit": 3}).json() == query.similar(filled.store, number, 3)
    assert client.get(f"/api/changes/{number}").json() == query.changes(filled.store, number)
    trends = client.get("/api/trends", params={"table": "incident", "by": "priority", "every": "week"}).json()
    assert trends == query.trends(filled.store, "incident", "priority", "week")


def test_questions_it_cannot_answer_are_a_400_with_the_fix(filled: Filled) -> None:
    client = filled.app()
    unknown = client.get("/api/related/INC9999999")
    assert unknown.status_code == 400 and set(unknown.json()) == {"error", "fix"}
    assert "INC9999999" in unknown.json()["error"]
    empty = client.get("/api/search", params={"q": "  "})
    assert empty.status_code == 400 and "no words" in empty.json()["error"]
    field = client.get("/api/trends", params={"table": "incident", "by": "priorty"})
    assert field.status_code == 400 and "priority" in field.json()["fix"] + field.json()["error"]


def test_the_search_page_lists_the_record_with_its_matches_marked(filled: Filled) -> None:
    client = filled.app()
    number, _ = an_incident(filled)
    page = client.get("/search", params={"q": number})
    assert page.status_code == 200
    assert f'<tr data-key="{number}">' in page.text and f"<mark>{number}</mark>" in page.text
    assert 'id="q"' in client.get("/").text  # the search box is on every page
    assert "No record holds" in client.get("/search", params={"q": "zzyzxqv"}).text


def test_a_snippet_reaches_the_page_escaped_with_only_its_marks_as_html() -> None:
    assert str(_highlighted("«db01» <script>alert(1)</script> & «x»")) == (
        "<mark>db01</mark> &lt;script&gt;alert(1)&lt;/script&gt; &amp; <mark>x</mark>")
