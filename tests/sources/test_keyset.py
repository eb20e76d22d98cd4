"""The keyset stream kit, driven by a tiny dialect over a real HTTP server: ties across page boundaries, a resume
strictly after any position, short and empty pages that do not end a stream, and the two ways on (restart the keyset
after every page, or follow the server's cursor and re-query only when it expires)."""

from __future__ import annotations

import http.server
import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import orjson
import pytest

from udc.records import Page, Position, Window
from udc.sources.keyset import Batch, KeysetStream, dataset_of
from udc.timeutil import cursor_str

END = datetime(2025, 1, 2, tzinfo=UTC)
WINDOW = Window(None, END)


def at(minute: int) -> str:
    return cursor_str(datetime(2025, 1, 1, 0, minute, tzinfo=UTC))


class Server:
    """Rows `{"k", "c"}` behind two APIs. `/rows`: a keyset query (`after_c`, `after_k`, `end`) paged by `offset`
    and `limit`, with rows in `hidden` dropped after the limit (as ACLs do) and `next` the next offset, or null on
    the last page. `/open` + `/more`: the same query as a server-side cursor over a snapshot, which answers 410 once
    `expire_in` pages from now."""

    def __init__(self, rows: list[dict[str, str]]) -> None:
        self.rows = rows
        self.hidden: set[str] = set()
        self.expire_in: int | None = None
        self.log: list[tuple[str, dict[str, str]]] = []
        self._snapshots: dict[str, list[dict[str, str]]] = {}
        self._ids = itertools.count()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                url = urlsplit(self.path)
                status, body = server.answer(url.path, dict(parse_qsl(url.query, keep_blank_values=True)))
                data = orjson.dumps(body)
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def matching(self, q: dict[str, str]) -> list[dict[str, str]]:
        after = (q["after_c"], q["after_k"]) if "after_c" in q else None
        rows = sorted(self.rows, key=lambda r: (r["c"], r["k"]))
        return [r for r in rows if r["c"] < q["end"] and (after is None or (r["c"], r["k"]) > after)]

    def answer(self, path: str, q: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.log.append((path, q))
        if path == "/rows":
            rows, offset, limit = self.matching(q), int(q["offset"]), int(q["limit"])
            shown = [r for r in rows[offset:offset + limit] if r["k"] not in self.hidden]
            return 200, {"rows": shown, "next": offset + limit if offset + limit < len(rows) else None}
        if path == "/open":
            snapshot = str(next(self._ids))
            self._snapshots[snapshot] = self.matching(q)
            q = {"id": snapshot, "at": "0", "limit": q["limit"]}
        if self.expire_in == 0:
            self.expire_in = None
            return 410, {"error": "INVALID_QUERY_LOCATOR"}
        if self.expire_in is not None:
            self.expire_in -= 1
        rows, start, limit = self._snapshots[q["id"]], int(q["at"]), int(q["limit"])
        more = start + limit < len(rows)
        return 200, {"rows": rows[start:start + limit],
                     "next": f"/more?id={q['id']}&at={start + limit}&limit={limit}" if more else None}


@pytest.fixture
def server() -> Iterator[Server]:
    made = Server([])
    yield made
    made.httpd.shutdown()
    made.httpd.server_close()


class Rows(KeysetStream[dict[str, str], int]):
    """The dialect of `/rows`: a keyset query restarted after every page; the offset steps over hidden rows."""

    name, primary_key, cursor_field = "rows", "k", "c"

    def __init__(self, server: Server, batch_size: int) -> None:
        self.server, self.batch_size, self.dataset = server, batch_size, dataset_of("test", "rows")

    def query(self, window: Window, after: Position | None) -> dict[str, str]:
        bounds = {"after_c": after.cursor, "after_k": after.pk} if after else {}
        return {**bounds, "end": cursor_str(window.end)}

    def fetch(self, query: dict[str, str], continuation: int | None, limit: int) -> Batch[int]:
        body = httpx.get(f"{self.server.url}/rows", params={**query, "offset": continuation or 0,
                                                            "limit": limit}).json()
        return Batch(body["rows"], body["next"])

    def position_of(self, row: dict[str, str]) -> Position:
        return Position(row["c"], row["k"])

    def page(self, rows: list[dict[str, str]], position: Position) -> Page:
        return Page(records=rows, position=position)


class Snapshot(Rows):
    """The dialect of `/open` + `/more`: the server's cursor is followed; the keyset is queried again only when it
    expires."""

    restart_after_page = False

    def fetch(self, query: dict[str, str], continuation: Any, limit: int) -> Batch[Any]:
        if continuation is None:
            response = httpx.get(f"{self.server.url}/open", params={**query, "limit": limit})
        else:
            response = httpx.get(f"{self.server.url}{continuation}")
        if response.status_code == 410:
            return Batch([], None, restart=True)
        body = response.json()
        return Batch(body["rows"], body["next"])


def keys(pages: list[Page]) -> list[str]:
    return [r["k"] for p in pages for r in p.records]


def ties(server: Server) -> list[str]:
    """Rows at few distinct cursors, each shared by more rows than a page holds; their keys in (cursor, key) order."""
    server.rows = [{"k": f"{minute}-{n:02d}", "c": at(minute)} for minute in (1, 2, 3) for n in range(7)]
    server.rows.append({"k": "late", "c": cursor_str(END)})  # at the window's end: outside it
    return [r["k"] for r in server.matching({"end": cursor_str(END)})]


@pytest.mark.parametrize("dialect", [Rows, Snapshot])
def test_equal_cursors_across_page_boundaries_lose_nothing(server: Server, dialect: type[Rows]) -> None:
    expected = ties(server)
    pages = list(dialect(server, 3).read(WINDOW, None))
    assert keys(pages) == expected and len(expected) == 21
    assert [p.position for p in pages if p.records] == [Position(at(int(p.records[-1]["k"][0])), p.records[-1]["k"])
                                                        for p in pages if p.records]


@pytest.mark.parametrize("dialect", [Rows, Snapshot])
def test_a_resume_strictly_after_any_position_neither_repeats_nor_skips(server: Server, dialect: type[Rows]) -> None:
    expected = ties(server)
    for page in Rows(server, 4).read(WINDOW, None):
        assert page.position is not None
        done = expected.index(page.position.pk) + 1
        assert keys(list(dialect(server, 4).read(WINDOW, page.position))) == expected[done:]
    # a position before the first row at a cursor (`pk == ""`) takes every row at that cursor
    assert keys(list(dialect(server, 4).read(WINDOW, Position(at(2))))) == expected[7:]
    assert keys(list(dialect(server, 4).read(Window(datetime(2025, 1, 1, 0, 3, tzinfo=UTC), END), None))) == \
        expected[14:]


def test_short_and_empty_pages_with_a_continuation_do_not_end_the_stream(server: Server) -> None:
    expected = ties(server)
    server.hidden = set(expected[2:12])  # more than three pages of hidden rows in a row
    pages = list(Rows(server, 3).read(WINDOW, None))
    assert keys(pages) == [k for k in expected if k not in server.hidden]
    assert any(p.size == 0 and p.position is None for p in pages)  # nothing to keep, nothing to store as progress
    assert any(0 < p.size < 3 for p in pages)


def test_the_keyset_restarts_after_every_page_and_the_offset_only_steps_over_hidden_rows(server: Server) -> None:
    expected = ties(server)
    server.hidden = set(expected[3:6])
    pages = list(Rows(server, 3).read(WINDOW, None))
    assert keys(pages) == expected[:3] + expected[6:]
    offsets = [(q["offset"], q.get("after_k")) for path, q in server.log]
    assert offsets[:3] == [("0", None), ("0", expected[2]), ("3", expected[2])]  # hidden: same query, next offset
    assert all(offset == "0" for offset, after in offsets[3:])  # after a kept page: the keyset, from offset 0


def test_a_server_cursor_is_followed_and_requeried_from_the_keyset_only_when_it_expires(server: Server) -> None:
    expected = ties(server)
    assert keys(list(Snapshot(server, 3).read(WINDOW, None))) == expected
    assert [path for path, _ in server.log].count("/open") == 1  # one query, its pages by the server's cursor
    server.log.clear()
    server.expire_in = 4
    assert keys(list(Snapshot(server, 3).read(WINDOW, None))) == expected
    opens = [q for path, q in server.log if path == "/open"]
    assert len(opens) == 2 and (opens[1]["after_c"], opens[1]["after_k"]) == (at(2), expected[11])
