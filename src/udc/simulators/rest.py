"""A generic REST API, served in the shapes real APIs page in, over one set of records, for the declarative REST
source's tests, demo and bench.

Records (`Item`: id, updated time at second precision, title, a service reference, a version) and, per item, child
notes. Each shape is an endpoint family of its own, all over the same data:

- `/offset/items` (PagerDuty): `{"items", "more", "offset", "limit", "total": null}`; `since` (>=) and `until` (<)
  in ISO seconds; `offset`/`limit`; ends with `more: false`. `/offset/items/{id}/notes`: its child endpoint.
- `/cursor/events` (token APIs): `{"data", "next_cursor", "end_of_stream"}`, times in epoch seconds;
  `updated_after` (>) and `updated_before` (<); `cursor`/`page_size`; the token stays on the last page: only
  `end_of_stream: true` ends it.
- `/link/issues` (GitHub): a bare list; `since` (>=); `page`/`per_page`; ends when there is no `rel="next"` Link.
- `/next/items`: `{"results", "next": URL}`; `since` (>=); `page_token`/`limit`; ends with `next: null`.
- `/page/items`: `{"items", "total"}`; `since` (>=); `page`/`per_page`; ends at the total.

Every listing is sorted by updated time, and records that share a second come in an order of their own (a hash of
the id, not the id): no key order inside a tie. Offsets and tokens are positions in the current result, so they
shift when records change while paging — what the source must survive. `update`, `create` and `on_request` (a hook
run just before the Nth data request) change records mid-sync; `faults` (base) injects 429s with Retry-After, 5xx,
resets. Auth: none, basic, bearer, an API key in a header or a query parameter, or OAuth client credentials
(`POST /oauth/token`).
"""

from __future__ import annotations

import argparse
import base64
import bisect
import contextlib
import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from udc.simulators.base import Request, Response, SimServer, decode_basic

AUTH_KINDS = ("none", "basic", "bearer", "api_key_header", "api_key_query", "oauth")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Item:
    id: str
    updated: datetime
    title: str
    service: str
    version: int = 1
    notes: list[dict[str, Any]] = field(default_factory=list)

    def iso(self) -> dict[str, Any]:
        return {"id": self.id, "updated_at": _iso(self.updated), "title": self.title, "service": {"id": self.service},
                "version": self.version}

    def epoch(self) -> dict[str, Any]:
        return {"event_id": self.id, "updated": int((self.updated - EPOCH).total_seconds()), "title": self.title,
                "version": self.version}


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _utf8(header: str) -> str:
    """A header value as the client's UTF-8 (http.server reads header bytes as latin-1)."""
    try:
        return header.encode("latin-1").decode()
    except (UnicodeEncodeError, UnicodeDecodeError):
        return header


def _tie_order(item: Item) -> str:
    return hashlib.sha1(item.id.encode()).hexdigest()  # noqa: S324 - an order, not a digest of anything secret


class RestSim(SimServer):
    """`RestSim(items=500, start=..., spread=timedelta(hours=2), ties=5)`: `items` records whose updated times fall
    on `items // ties` distinct seconds from `start` (so `ties` records share each second), each with `notes` child
    records."""

    name = "rest"

    def __init__(self, items: int = 200, start: datetime = datetime(2025, 1, 1, tzinfo=UTC),
                 spread: timedelta = timedelta(hours=2), ties: int = 5, notes: int = 2, auth: str = "none",
                 secret: str = "s3cret-t0ken", user: str = "svc", header: str = "Authorization",
                 key_format: str = "Token token={}", query_param: str = "api_key", host: str = "127.0.0.1",
                 port: int = 0) -> None:
        super().__init__(host, port)
        if auth not in AUTH_KINDS:
            raise ValueError(f"auth must be one of {AUTH_KINDS}")
        self.auth, self.secret, self.user = auth, secret, user
        self.header, self.key_format, self.query_param = header, key_format, query_param
        self.client_id, self.tokens_issued = "udc-client", 0
        self._tokens: set[str] = set()
        self.items: dict[str, Item] = {}
        self.clock = start + spread + timedelta(hours=1)
        self.lock = threading.RLock()
        self.data_requests = 0
        self.hooks: dict[int, Callable[[Request], None]] = {}
        self._order: list[Item] | None = None  # every item in listing order, until a change
        seconds = max(1, items // max(1, ties))
        step = spread / seconds
        for n in range(items):
            at = (start + step * (n % seconds)).replace(microsecond=0)
            item = Item(f"I{n + 1:05d}", at, f"item {n + 1}", f"S{n % 7 + 1}")
            item.notes = [self._note(item, k) for k in range(notes)]
            self.items[item.id] = item

    # -- changing the data -------------------------------------------------------------------------------------

    @staticmethod
    def _note(item: Item, k: int) -> dict[str, Any]:
        return {"id": f"{item.id}-N{k + 1}", "created_at": _iso(item.updated), "text": f"note {k + 1} on {item.id}"}

    def update(self, item_id: str, at: datetime | None = None, **fields: Any) -> Item:
        with self.lock:
            item = self.items[item_id]
            item.updated = (at or self.clock).replace(microsecond=0)
            item.version += 1
            self._order = None
            for name, value in fields.items():
                setattr(item, name, value)
            return item

    def create(self, at: datetime | None = None, title: str = "new") -> Item:
        with self.lock:
            item = Item(f"I{len(self.items) + 1:05d}", (at or self.clock).replace(microsecond=0), title, "S1")
            self.items[item.id] = item
            self._order = None
            return item

    def on_request(self, n: int, hook: Callable[[Request], None]) -> None:
        """Run `hook` just before the Nth data request (1-based, counted from construction) is served."""
        with self.lock:
            self.hooks[n] = hook

    def truth(self) -> dict[str, int]:
        """id → version of every record."""
        with self.lock:
            return {i.id: i.version for i in self.items.values()}

    # -- serving -----------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path == "/oauth/token":
            return self._token(request)
        refused = self._refused(request)
        if refused is not None:
            return refused
        if request.method != "GET":
            return Response.json({"error": "read-only simulator"}, 405)
        with self.lock:
            self.data_requests += 1
            hook = self.hooks.pop(self.data_requests, None)
        if hook is not None:
            hook(request)
        with self.lock:
            return self._route(request)

    def _route(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        parts = path.split("/")
        if path == "/offset/items":
            return self._offset(request)
        if len(parts) == 5 and parts[1:3] == ["offset", "items"] and parts[4] == "notes":
            item = self.items.get(parts[3])
            if item is None:
                return Response.json({"error": {"message": "Not Found"}}, 404)
            offset, limit = self._int(request, "offset", 0), self._int(request, "limit", 25)
            notes = item.notes[offset:offset + limit]
            return Response.json({"notes": notes, "more": offset + limit < len(item.notes)})
        if path == "/cursor/events":
            return self._cursor(request)
        if path == "/link/issues":
            return self._link(request)
        if path == "/next/items":
            return self._next(request)
        if path == "/page/items":
            return self._page(request)
        return Response.json({"error": {"message": f"no route {path}"}}, 404)

    def _listing(self, since: datetime | None = None, until: datetime | None = None, after: datetime | None = None,
                 before: datetime | None = None) -> list[Item]:
        if self._order is None:
            self._order = sorted(self.items.values(), key=lambda i: (i.updated, _tie_order(i)))
        order = self._order
        lo = bisect.bisect_left(order, since, key=lambda i: i.updated) if since else 0
        if after is not None:
            lo = max(lo, bisect.bisect_right(order, after, key=lambda i: i.updated))
        hi = len(order)
        for bound in (until, before):
            if bound is not None:
                hi = min(hi, bisect.bisect_left(order, bound, key=lambda i: i.updated))
        return order[lo:max(lo, hi)]

    @staticmethod
    def _int(request: Request, name: str, default: int) -> int:
        value = request.arg(name)
        return int(value) if value and value.lstrip("-").isdigit() else default

    @staticmethod
    def _time(request: Request, name: str) -> datetime | None:
        value = request.arg(name)
        return _parse_iso(value).replace(microsecond=0) if value else None  # second precision, like the real ones

    def _offset(self, request: Request) -> Response:
        if request.arg("sort_by") not in (None, "updated_at:asc"):
            return Response.json({"error": {"message": "sort_by must be updated_at:asc"}}, 400)
        rows = self._listing(self._time(request, "since"), self._time(request, "until"))
        offset, limit = self._int(request, "offset", 0), min(self._int(request, "limit", 25), 100)
        page = rows[offset:offset + limit]
        return Response.json({"items": [i.iso() for i in page], "more": offset + limit < len(rows),
                              "offset": offset, "limit": limit, "total": None})

    def _cursor(self, request: Request) -> Response:
        def epoch(name: str) -> datetime | None:
            value = request.arg(name)
            return EPOCH + timedelta(seconds=int(value)) if value else None

        rows = self._listing(after=epoch("updated_after"), before=epoch("updated_before"))
        token = request.arg("cursor")
        offset = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
        size = min(self._int(request, "page_size", 50), 200)
        page = rows[offset:offset + size]
        end = offset + size >= len(rows)
        # the token is there even on the last page: only end_of_stream ends the listing
        following = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
        return Response.json({"data": [i.epoch() for i in page], "next_cursor": following, "end_of_stream": end})

    def _link(self, request: Request) -> Response:
        rows = self._listing(self._time(request, "since"))
        page_no, size = max(1, self._int(request, "page", 1)), min(self._int(request, "per_page", 30), 100)
        page = rows[(page_no - 1) * size:page_no * size]
        headers = {}
        if page_no * size < len(rows):
            query = {k: v[-1] for k, v in request.query.items()} | {"page": str(page_no + 1)}
            headers["Link"] = f'<{self.url}/link/issues?{urlencode(query)}>; rel="next", ' \
                              f'<{self.url}/link/issues?page=1>; rel="first"'
        return Response.json([i.iso() for i in page], headers=headers)

    def _next(self, request: Request) -> Response:
        rows = self._listing(self._time(request, "since"))
        offset, size = self._int(request, "page_token", 0), min(self._int(request, "limit", 50), 100)
        page = rows[offset:offset + size]
        following = None
        if offset + size < len(rows):
            query = {k: v[-1] for k, v in request.query.items()} | {"page_token": str(offset + size)}
            following = f"{self.url}/next/items?{urlencode(query)}"
        return Response.json({"results": [i.iso() for i in page], "next": following})

    def _page(self, request: Request) -> Response:
        rows = self._listing(self._time(request, "since"))
        page_no, size = max(1, self._int(request, "page", 1)), min(self._int(request, "per_page", 50), 100)
        page = rows[(page_no - 1) * size:page_no * size]
        return Response.json({"items": [i.iso() for i in page], "total": len(rows), "page": page_no})

    # -- auth --------------------------------------------------------------------------------------------------

    def _refused(self, request: Request) -> Response | None:
        if self.auth == "none":
            return None
        given = _utf8(request.headers.get("authorization", ""))
        if self.auth == "basic":
            scheme, _, credentials = given.partition(" ")
            ok = scheme == "Basic" and decode_basic(credentials) == (self.user, self.secret)
        elif self.auth == "bearer":
            ok = given == f"Bearer {self.secret}"
        elif self.auth == "api_key_header":
            ok = _utf8(request.headers.get(self.header.lower(), "")) == self.key_format.format(self.secret)
        elif self.auth == "api_key_query":
            ok = request.arg(self.query_param) == self.secret
        else:
            ok = given.startswith("Bearer ") and given[7:] in self._tokens
        return None if ok else Response.json({"error": "unauthorized", "message": "bad credentials"}, 401)

    def _token(self, request: Request) -> Response:
        form = request.form()
        if request.method != "POST" or self.auth != "oauth":
            return Response.json({"error": "invalid_request"}, 400)
        if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != \
                ("client_credentials", self.client_id, self.secret):
            return Response.json({"error": "invalid_client", "error_description": "bad client credentials"}, 401)
        with self.lock:
            self.tokens_issued += 1
            token = f"tok-{self.tokens_issued}-{hashlib.sha1(self.secret.encode()).hexdigest()[:8]}"  # noqa: S324
            self._tokens.add(token)
        return Response.json({"access_token": token, "token_type": "bearer", "expires_in": 3600})


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m udc.simulators rest`: serve the generic REST API in the foreground."""
    parser = argparse.ArgumentParser(prog="python -m udc.simulators rest",
                                     description="Serve one set of records in several REST pagination shapes.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on start)")
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--ties", type=int, default=5, help="records sharing each updated second")
    parser.add_argument("--auth", choices=AUTH_KINDS, default="none")
    parser.add_argument("--secret", default="s3cret-t0ken", help="password, token, API key or client secret")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    args = parser.parse_args(argv)
    sim = RestSim(args.items, ties=args.ties, auth=args.auth, secret=args.secret, host=args.host, port=args.port)
    sim.faults.latency = args.latency
    print(f"rest simulator listening on {sim.url} ({len(sim.items)} items; auth {args.auth}; paths /offset/items, "
          "/cursor/events, /link/issues, /next/items, /page/items)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sim.serve_forever()
    return 0
