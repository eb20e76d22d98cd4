"""A faithful local Confluence: Cloud (REST v2 under `/wiki/api/v2`, CQL through v1 `/wiki/rest/api`) and Server /
Data Center (v1 `/rest/api` under an optional context path), with the traps real connectors fall into (see
docs/source-apis.md):

- v2 lists (and Cloud's CQL search) page with an opaque `cursor`; a v2 `_links.next` (and `Link` header) already
  holds `/wiki`; a v1 `next` link is relative to `_links.base`, which holds the context (`/wiki` on Cloud).
- Restricted content is dropped after the limit is applied, so pages come back shorter than asked (even empty)
  before the end: only a missing `next` link ends a listing.
- CQL `lastmodified` literals are minute-precision, read in the account's (Cloud) or server's zone, with DST.
  `ORDER BY lastmodified` breaks ties by descending id, so equal timestamps straddle page boundaries.
- Server silently caps `limit` (25 by default) below what was asked; v2 may return fewer than `limit` too.
- A space that does not exist and one the account cannot read look the same: absent from lists, 404 alone.
- Cloud's 401 is text/plain; v2 errors are `{"errors": [...]}`, v1 errors `{"statusCode", "message"}`.

A mutation API (create/update/trash/purge/archive content at a given time) and a settable clock drive tests.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import random
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlencode
from zoneinfo import ZoneInfo

import orjson

from udc.simulators.base import Request, Response, SimServer, decode_basic

WORDS = ("runbook", "on-call", "database", "failover", "deploy", "certificate", "backup", "network", "postmortem",
         "capacity", "vpn", "alerting", "queue", "cache", "gateway", "dns", "patching", "storage", "cluster", "sso")
TYPES = ("page", "blogpost", "comment")
V2_CAP, V1_CLOUD_CAP = 250, 250


class CqlError(ValueError):
    """A CQL problem Confluence reports as 400 with this message."""


@dataclass
class SimSpace:
    id: int
    key: str
    name: str
    readable: bool = True  # False: exists, but the account has no View permission on it


@dataclass
class SimContent:
    id: int
    type: str  # page, blogpost, comment
    space: SimSpace
    title: str
    body: str  # storage format (XHTML)
    author: str
    created: datetime
    updated: datetime
    version: int = 1
    status: str = "current"  # current, archived, trashed, deleted
    parent_id: int | None = None  # pages: the parent page
    container_id: int | None = None  # comments: the page or blog post
    location: str = "footer"  # comments: footer or inline
    labels: list[str] = field(default_factory=list)
    restricted: bool = False  # the account cannot see it (page restrictions)


def iso_z(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def iso_offset(value: datetime, tz: ZoneInfo) -> str:
    local = value.astimezone(tz)
    offset = local.strftime("%z")
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}{offset[:3]}:{offset[3:]}"


def storage_adf(storage: str) -> str:
    """The atlas_doc_format rendering of a storage body: its text in paragraphs, as an ADF JSON string."""
    paragraphs = [p for p in re.split(r"</p>|<br\s*/?>", storage) if p.strip()]
    content = [{"type": "paragraph", "content": [{"type": "text", "text": re.sub(r"<[^>]+>", "", p)}]}
               for p in paragraphs if re.sub(r"<[^>]+>", "", p)]
    return orjson.dumps({"type": "doc", "version": 1, "content": content}).decode()


# ---------------------------------------------------------------------------------------------------------------
# CQL subset: `field op value` clauses joined by AND, ORDER BY lastmodified


Predicate = Callable[[SimContent], bool]
_TOKEN = re.compile(r"""\s*(?:(?P<str>"[^"]*"|'[^']*')|(?P<op>>=|<=|!=|=|>|<|\(|\)|,)|(?P<word>[^\s"'(),=!<>]+))""")
_MINUTE = re.compile(r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")


def parse_cql(text: str, tz: ZoneInfo) -> tuple[list[Predicate], bool]:
    """The clauses of a CQL query and whether it orders by lastmodified descending."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            if text[pos:].strip():
                raise CqlError(f"Could not parse cql : {text}")
            break
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    clauses: list[Predicate] = []
    descending = False
    i = 0

    def value(at: int) -> str:
        kind, raw = tokens[at]
        return raw[1:-1] if kind == "str" else raw

    while i < len(tokens):
        word = tokens[i][1].lower()
        if word == "and":
            i += 1
            continue
        if word == "order" and i + 2 < len(tokens) and tokens[i + 1][1].lower() == "by":
            if tokens[i + 2][1].lower() != "lastmodified":
                raise CqlError(f"Could not parse cql : {text}")
            descending = i + 3 < len(tokens) and tokens[i + 3][1].lower() == "desc"
            break
        if i + 2 >= len(tokens):
            raise CqlError(f"Could not parse cql : {text}")
        name, op = word, tokens[i + 1][1].lower()
        if op == "in":
            if tokens[i + 2][1] != "(":
                raise CqlError(f"Could not parse cql : {text}")
            values, i = [], i + 3
            while i < len(tokens) and tokens[i][1] != ")":
                if tokens[i][1] != ",":
                    values.append(value(i))
                i += 1
            i += 1
        else:
            values, i = [value(i + 2)], i + 3
        clauses.append(_clause(name, op, values, tz, text))
    return clauses, descending


def _clause(name: str, op: str, values: list[str], tz: ZoneInfo, text: str) -> Predicate:
    if name == "space" and op in ("=", "in"):
        keys = {v.upper() for v in values}
        return lambda c: c.space.key.upper() in keys
    if name == "type" and op in ("=", "in"):
        kinds = {v.lower() for v in values}
        unknown = kinds - set(TYPES)
        if unknown:
            raise CqlError(f"Could not parse cql : {text} (unknown type {sorted(unknown)[0]})")
        return lambda c: c.type in kinds
    if name == "id" and op in ("=", "in"):
        ids = {int(v) for v in values if v.isdigit()}
        return lambda c: c.id in ids
    if name in ("lastmodified", "created") and op in (">=", ">", "<", "<="):
        match = _MINUTE.match(values[0].strip())
        if not match:
            raise CqlError(f"Could not parse cql : {text} (dates are 'yyyy/MM/dd HH:mm' or 'yyyy/MM/dd')")
        y, mo, d, h, mi = (int(g) if g else 0 for g in match.groups())
        bound = datetime(y, mo, d, h, mi, tzinfo=tz).astimezone(UTC)  # read in the zone, as Confluence does

        def stamp(c: SimContent) -> datetime:
            return c.updated if name == "lastmodified" else c.created

        return {">=": lambda c: stamp(c) >= bound, ">": lambda c: stamp(c) > bound,
                "<": lambda c: stamp(c) < bound, "<=": lambda c: stamp(c) <= bound}[op]
    raise CqlError(f"Could not parse cql : {text} (unsupported clause {name} {op})")


# ---------------------------------------------------------------------------------------------------------------
# The server


class ConfluenceSim(SimServer):
    name = "confluence"

    def __init__(
        self,
        deployment: str = "cloud",
        tz: str = "America/Los_Angeles",
        seed: int = 0,
        pages: int = 40,
        spaces: Sequence[str | tuple[str, str]] = ("OPS", "ENG", ("HR", "hidden")),
        *,
        email: str = "svc@example.com",
        api_token: str = "ATATT3xFfGF0-sim-confluence-token-0123456789",
        pat: str = "MDM0NzQ5OTIyMzQ1OsimConfluencePAT0123",
        context: str = "",
        server_limit_cap: int = 25,
        v2_page_cap: int = V2_CAP,
        now: datetime | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if deployment not in ("cloud", "server"):
            raise ValueError("deployment must be 'cloud' or 'server'")
        super().__init__(host, port)
        self.deployment = deployment
        self.tz, self.tz_name = ZoneInfo(tz), tz
        self.rng = random.Random(seed)
        self.email, self.api_token, self.pat = email, api_token, pat
        self.context = "/wiki" if deployment == "cloud" else context.rstrip("/")
        self.server_limit_cap, self.v2_page_cap = server_limit_cap, v2_page_cap
        self.on_request: Callable[[Request], None] | None = None  # called before each request is served (tests)
        self.expose_time_zone = True  # False: /user/current omits timeZone (as some Server versions do)
        self.record_responses = False  # tests: keep (request, response) pairs in `exchanges` for spec validation
        self.exchanges: list[tuple[Request, Response]] = []
        self._clock = now
        self._lock = threading.RLock()
        self._next_id = 100000
        self.spaces: list[SimSpace] = []
        self.content: dict[int, SimContent] = {}
        self.users = ["557058:sim-ana", "557058:sim-ravi", "557058:sim-mia"]
        for spec in spaces:
            key, readable = (spec[0], spec[1] != "hidden") if isinstance(spec, tuple) else (spec, True)
            self.add_space(key, readable=readable)
        if pages:
            self._generate(pages)

    @property
    def site(self) -> str:
        """What a user configures as base_url: the origin on Cloud, origin + context path on Server."""
        return self.url if self.deployment == "cloud" else self.url + self.context

    # -- clock, data and mutations ------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock if self._clock is not None else datetime.now(UTC)

    def set_clock(self, when: datetime | None) -> None:
        self._clock = when.astimezone(UTC) if when else None

    def add_space(self, key: str, readable: bool = True) -> SimSpace:
        with self._lock:
            space = SimSpace(1000 + len(self.spaces) * 17, key, f"{key.title()} space", readable)
            self.spaces.append(space)
            return space

    def _generate(self, count: int) -> None:
        """Pages (some children), blog posts and comments over the last 30 days, one of them mentioning Jira keys."""
        end = self.now().replace(microsecond=0) - timedelta(minutes=5)
        stamps = sorted(end - timedelta(seconds=self.rng.randrange(30 * 86400)) for _ in range(count))
        made: list[SimContent] = []
        for n, at in enumerate(stamps):
            space = self.spaces[n % len(self.spaces)]
            words = " ".join(self.rng.sample(WORDS, 3))
            if n % 5 == 4:
                self.create("blogpost", space.key, f"Weekly notes: {words}", at=at)
                continue
            parents = [c for c in made if c.space is space]
            parent = parents[-1].id if parents and n % 3 == 0 else None
            body = f"<p>How we handle {words}.</p>" + ("<p>See OPS-12 and NET-7.</p>" if n % 7 == 0 else "")
            page = self.create("page", space.key, f"{words.title()} ({n})", body, at=at, parent=parent,
                               labels=self.rng.sample(["runbook", "howto", "infra"], 1))
            made.append(page)
            if n % 4 == 0:
                self.create("comment", space.key, "", f"<p>Updated after the {words} review.</p>",
                            at=at + timedelta(minutes=3), container=page.id)

    def create(self, kind: str, space: str, title: str = "", body: str = "", at: datetime | None = None,
               parent: int | None = None, container: int | None = None, location: str = "footer",
               labels: Sequence[str] = (), restricted: bool = False, author: str | None = None) -> SimContent:
        if kind not in TYPES:
            raise ValueError(f"kind must be one of {TYPES}")
        with self._lock:
            self._next_id += 1
            when = (at or self.now()).astimezone(UTC)
            item = SimContent(self._next_id, kind, self.space(space), title or f"Re: {container}",
                              body or f"<p>{title}</p>", author or self.users[self._next_id % len(self.users)],
                              when, when, parent_id=parent, container_id=container, location=location,
                              labels=list(labels), restricted=restricted)
            self.content[item.id] = item
            return item

    def update(self, content_id: int, at: datetime | None = None, **changes: Any) -> SimContent:
        """A new version: `updated` moves, the version number grows; `changes` set title, body, labels..."""
        with self._lock:
            item = self.content[content_id]
            for name, value in changes.items():
                setattr(item, name, value)
            item.version += 1
            item.updated = (at or self.now()).astimezone(UTC)
            return item

    def set_status(self, content_id: int, status: str) -> SimContent:
        """Trash, purge (`deleted`), archive or restore: the status changes, the version does not."""
        with self._lock:
            item = self.content[content_id]
            item.status = status
            return item

    def space(self, key: str) -> SimSpace:
        return next(s for s in self.spaces if s.key.upper() == key.upper())

    def visible(self, item: SimContent) -> bool:
        return item.space.readable and not item.restricted

    def snapshot(self, kind: str) -> dict[str, int]:
        """Current, visible content of a type: id → version (what a full sync must hold)."""
        with self._lock:
            return {str(c.id): c.version for c in self.content.values()
                    if c.type == kind and c.status == "current" and self.visible(c)}

    def data_requests(self) -> list[Request]:
        return [r for r in self.requests if "/api/" in r.path]

    # -- HTTP ---------------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        response = self._handle(request)
        if self.record_responses:
            with self._lock:
                self.exchanges.append((request, response))
        return response

    def _handle(self, request: Request) -> Response:
        if self.on_request is not None:
            self.on_request(request)
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        if request.method != "GET":
            return self._v1_error(405, "Method Not Allowed")
        path = request.path.rstrip("/")
        if not path.startswith(self.context + "/"):
            return Response.text("<html><body>Page not found</body></html>", 404, "text/html")
        rest = path[len(self.context):]
        try:
            with self._lock:
                if rest.startswith("/api/v2/") and self.deployment == "cloud":
                    return self._v2(rest[len("/api/v2"):], request)
                if rest.startswith("/rest/api/"):
                    return self._v1(rest[len("/rest/api"):], request)
        except CqlError as exc:
            return self._v1_error(400, str(exc))
        return self._v1_error(404, f"null for uri: {path}")

    def _authenticate(self, request: Request) -> Response | None:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            user, secret = decode_basic(credentials)
            if user.lower() == self.email.lower() and secret == self.api_token:
                return None
        if scheme.lower() == "bearer" and self.deployment == "server" and credentials == self.pat:
            return None
        if self.deployment == "cloud":
            return Response(401, b"Basic authentication with passwords is deprecated or the credentials are wrong.",
                            {"Content-Type": "text/plain;charset=UTF-8", "WWW-Authenticate": 'Basic realm="protected"'})
        return self._v1_error(401, "This request requires authentication")

    @staticmethod
    def _v1_error(status: int, message: str) -> Response:
        return Response.json({"statusCode": status, "message": message, "data": {"authorized": status != 401}},
                             status)

    @staticmethod
    def _v2_error(status: int, title: str, detail: str = "") -> Response:
        code = {400: "INVALID_REQUEST_PARAMETER", 404: "NOT_FOUND"}.get(status, "ERROR")
        return Response.json({"errors": [{"status": status, "code": code, "title": title, "detail": detail}]}, status)

    def _time(self, value: datetime) -> str:
        return iso_z(value) if self.deployment == "cloud" else iso_offset(value, self.tz)

    # -- v2 (Cloud) -----------------------------------------------------------------------------------------------

    def _v2(self, rest: str, request: Request) -> Response:
        if rest == "/spaces":
            keys = {k.upper() for v in request.query.get("keys", []) for k in v.split(",") if k}
            ids = {k for v in request.query.get("ids", []) for k in v.split(",") if k}
            rows = [s for s in self.spaces if s.readable and (not keys or s.key.upper() in keys)
                    and (not ids or str(s.id) in ids)]
            return self._v2_list("/spaces", request, rows, self._space_v2)
        match = re.fullmatch(r"/spaces/(\d+)", rest)
        if match:
            space = next((s for s in self.spaces if str(s.id) == match.group(1) and s.readable), None)
            return Response.json(self._space_v2(space)) if space else self._v2_error(404, "Not Found")
        if rest in ("/pages", "/blogposts"):
            return self._v2_contents("page" if rest == "/pages" else "blogpost", rest, request)
        match = re.fullmatch(r"/(footer|inline)-comments/(\d+)", rest)
        if match:
            item = self.content.get(int(match.group(2)))
            if (item is None or item.type != "comment" or item.location != match.group(1) or not self.visible(item)
                    or item.status != "current"):
                return self._v2_error(404, "Not Found")
            return Response.json(self._comment_v2(item, request.arg("body-format")))
        return self._v2_error(404, "Not Found")

    def _v2_contents(self, kind: str, rest: str, request: Request) -> Response:
        fmt = request.arg("body-format")
        if fmt not in (None, "storage", "atlas_doc_format"):
            return self._v2_error(400, "Invalid body-format")
        ids = {int(k) for v in request.query.get("id", []) for k in v.split(",") if k.isdigit()}
        space_ids = {int(k) for v in request.query.get("space-id", []) for k in v.split(",") if k.isdigit()}
        statuses = {k for v in request.query.get("status", []) for k in v.split(",") if k} or {"current", "archived"}
        rows = sorted((c for c in self.content.values() if c.type == kind and c.space.readable
                       and c.status in statuses and (not ids or c.id in ids)
                       and (not space_ids or c.space.id in space_ids)), key=lambda c: c.id)
        if request.arg("sort") == "-modified-date":
            rows.sort(key=lambda c: c.updated, reverse=True)
        # restricted content is dropped after the page is cut: pages come back short, even empty, before the end
        return self._v2_list(rest, request, rows, lambda c: self._content_v2(c, fmt), keep=lambda c: not c.restricted)

    def _v2_list(self, rest: str, request: Request, rows: list[Any], render: Callable[[Any], dict[str, Any]],
                 keep: Callable[[Any], bool] = lambda _: True) -> Response:
        try:
            limit = int(request.arg("limit") or 25)
        except ValueError:
            return self._v2_error(400, "Invalid limit")
        if not 1 <= limit <= V2_CAP:
            return self._v2_error(400, f"limit must be between 1 and {V2_CAP}")
        offset = _decode_cursor(request.arg("cursor"))
        limit = min(limit, self.v2_page_cap)  # fewer than asked, as Confluence may
        page = rows[offset:offset + limit]
        out: dict[str, Any] = {"results": [render(r) for r in page if keep(r)],
                               "_links": {"base": self.url + "/wiki"}}
        headers = {}
        if offset + limit < len(rows):
            params = {k: v[-1] for k, v in request.query.items() if k != "cursor"}
            out["_links"]["next"] = f"/wiki/api/v2{rest}?" + urlencode({**params, "cursor": _encode_cursor(
                offset + limit)})
            headers["Link"] = f'<{out["_links"]["next"]}>; rel="next", <{self.url}/wiki>; rel="base"'
        return Response.json(out, headers=headers)

    def _space_v2(self, space: SimSpace) -> dict[str, Any]:
        return {"id": str(space.id), "key": space.key, "name": space.name, "type": "global", "status": "current",
                "authorId": self.users[0], "createdAt": "2020-01-01T00:00:00.000Z",
                "homepageId": str(space.id + 1), "_links": {"webui": f"/spaces/{space.key}"}}

    def _version_v2(self, item: SimContent) -> dict[str, Any]:
        return {"createdAt": iso_z(item.updated), "message": "", "number": item.version, "minorEdit": False,
                "authorId": item.author}

    def _body(self, item: SimContent, fmt: str | None) -> dict[str, Any]:
        if fmt is None:
            return {}
        value = item.body if fmt == "storage" else storage_adf(item.body)
        return {fmt: {"representation": fmt, "value": value}}

    def _content_v2(self, item: SimContent, fmt: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"id": str(item.id), "status": item.status, "title": item.title,
                               "spaceId": str(item.space.id), "authorId": item.author, "ownerId": item.author,
                               "createdAt": iso_z(item.created), "version": self._version_v2(item),
                               "body": self._body(item, fmt),
                               "_links": {"webui": f"/spaces/{item.space.key}/{item.type}s/{item.id}",
                                          "editui": f"/pages/resumedraft.action?draftId={item.id}",
                                          "tinyui": f"/x/{item.id}"}}
        if item.type == "page":
            out["position"] = 0
            if item.parent_id:
                out |= {"parentId": str(item.parent_id), "parentType": "page"}
        return out

    def _comment_v2(self, item: SimContent, fmt: str | None) -> dict[str, Any]:
        container = self.content.get(item.container_id or 0)
        on = "blogPostId" if container is not None and container.type == "blogpost" else "pageId"
        return {"id": str(item.id), "status": item.status, "title": item.title, on: str(item.container_id),
                "version": self._version_v2(item), "body": self._body(item, fmt),
                "_links": {"webui": f"/spaces/{item.space.key}/pages/{item.container_id}?focusedCommentId={item.id}",
                           "base": self.url + "/wiki"}}

    # -- v1 (Cloud CQL, Server everything) ------------------------------------------------------------------------

    def _v1(self, rest: str, request: Request) -> Response:
        if rest == "/user/current":
            me = {"type": "known", "accountId": "557058:sim-svc", "username": "svc-udc", "email": self.email,
                  "displayName": "UDC Service"}
            return Response.json(me | ({"timeZone": self.tz_name} if self.expose_time_zone else {}))
        if rest == "/content/search":
            return self._content_search(request)
        if rest == "/search":
            clauses, _ = parse_cql(request.arg("cql") or "", self.tz)
            hits = [c for c in self.content.values() if c.status == "current" and self.visible(c)
                    and all(p(c) for p in clauses)]
            limit = min(int(request.arg("limit") or 25), self._cap())
            return Response.json({"results": [{"content": self._content_v1(c, "")} for c in hits[:limit]],
                                  "start": 0, "limit": limit, "size": min(limit, len(hits)), "totalSize": len(hits),
                                  "cqlQuery": request.arg("cql") or "", "_links": self._v1_links()})
        if self.deployment == "server":
            if rest == "/space":
                keys = {k.upper() for k in request.query.get("spaceKey", [])}
                rows = [s for s in self.spaces if s.readable and (not keys or s.key.upper() in keys)]
                return self._v1_list("/space", request, rows, self._space_v1)
            match = re.fullmatch(r"/space/([^/]+)", rest)
            if match:
                key = unquote(match.group(1)).upper()
                space = next((s for s in self.spaces if s.key.upper() == key and s.readable), None)
                if space is None:
                    return self._v1_error(404, f"No space found with key : {key}")
                return Response.json(self._space_v1(space))
            if rest == "/content":
                return self._content_list(request)
        return self._v1_error(404, f"null for uri: {self.context}/rest/api{rest}")

    def _cap(self) -> int:
        return V1_CLOUD_CAP if self.deployment == "cloud" else self.server_limit_cap

    def _v1_links(self) -> dict[str, str]:
        return {"base": self.url + self.context, "context": self.context}

    def _v1_list(self, rest: str, request: Request, rows: list[Any], render: Callable[[Any], dict[str, Any]],
                 keep: Callable[[Any], bool] = lambda _: True) -> Response:
        """Server: `start`/`limit` paging with the limit silently capped; Cloud: an opaque `cursor`. Either way the
        next link is relative to `_links.base` (which holds the context)."""
        try:
            start = _decode_cursor(request.arg("cursor")) if self.deployment == "cloud" else int(
                request.arg("start") or 0)
            asked = int(request.arg("limit") or 25)
        except ValueError:
            return self._v1_error(400, "start and limit must be integers")
        limit = max(1, min(asked, self._cap()))
        page = rows[start:start + limit]
        shown = [render(r) for r in page if keep(r)]
        links = self._v1_links()
        if start + limit < len(rows):
            params = [(k, x) for k, v in request.query.items() if k not in ("start", "limit", "cursor") for x in v]
            step = ("cursor", _encode_cursor(start + limit)) if self.deployment == "cloud" else ("start", start + limit)
            links["next"] = f"/rest/api{rest}?" + urlencode([*params, ("limit", limit), step])
        out: dict[str, Any] = {"results": shown, "limit": limit, "size": len(shown), "_links": links}
        if self.deployment == "server":
            out["start"] = start
        return Response.json(out)

    def _content_search(self, request: Request) -> Response:
        clauses, descending = parse_cql(request.arg("cql") or "", self.tz)
        rows = [c for c in self.content.values() if c.status == "current" and c.space.readable
                and all(p(c) for p in clauses)]
        rows.sort(key=lambda c: c.id, reverse=True)  # ties in lastmodified: descending id
        rows.sort(key=lambda c: c.updated, reverse=descending)
        expand = request.arg("expand") or ""
        return self._v1_list("/content/search", request, rows, lambda c: self._content_v1(c, expand),
                             keep=lambda c: not c.restricted)

    def _content_list(self, request: Request) -> Response:
        keys = {k.upper() for k in request.query.get("spaceKey", [])}
        kind = request.arg("type") or "page"
        status = request.arg("status") or "current"
        rows = sorted((c for c in self.content.values() if c.type == kind and c.space.readable
                       and (not keys or c.space.key.upper() in keys) and c.status == status), key=lambda c: c.id)
        expand = request.arg("expand") or ""
        return self._v1_list("/content", request, rows, lambda c: self._content_v1(c, expand),
                             keep=lambda c: not c.restricted)

    def _space_v1(self, space: SimSpace) -> dict[str, Any]:
        return {"id": space.id, "key": space.key, "name": space.name, "type": "global",
                "_links": {"webui": f"/display/{space.key}"}}

    def _content_v1(self, item: SimContent, expand: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": str(item.id), "type": item.type, "status": item.status, "title": item.title,
            "space": self._space_v1(item.space),
            "version": {"number": item.version, "when": self._time(item.updated),
                        "by": {"type": "known", "accountId": item.author, "username": item.author.split(":")[-1]}},
            "history": {"latest": True, "createdDate": self._time(item.created),
                        "createdBy": {"type": "known", "accountId": item.author}},
            "ancestors": [{"id": str(item.parent_id), "type": "page"}] if item.parent_id else [],
            "metadata": {"labels": {"results": [{"prefix": "global", "name": n} for n in item.labels]}},
            "_links": {"webui": f"/spaces/{item.space.key}/{item.type}s/{item.id}",
                       "self": f"{self.url}{self.context}/rest/api/content/{item.id}"},
        }
        if item.type == "comment":
            container = self.content.get(item.container_id or 0)
            out["container"] = {"id": str(item.container_id), "type": container.type if container else "page"}
            out["extensions"] = {"location": item.location}
        if "body.storage" in expand:
            out["body"] = {"storage": {"value": item.body, "representation": "storage"}}
        return out


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"o": offset})).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["o"])
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m udc.simulators confluence`: serve a seeded Confluence (Cloud or Server) in the foreground."""
    parser = argparse.ArgumentParser(prog="python -m udc.simulators confluence",
                                     description="Serve a seeded Confluence Cloud (v2 + CQL) or Server (v1).")
    parser.add_argument("--deployment", choices=["cloud", "server"], default="cloud")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on start)")
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tz", default="America/Los_Angeles", help="the account's (Cloud) or server's time zone")
    args = parser.parse_args(argv)
    sim = ConfluenceSim(args.deployment, args.tz, args.seed, args.pages, host=args.host, port=args.port)
    auth = f"basic {sim.email} / {sim.api_token}" if args.deployment == "cloud" else f"bearer {sim.pat}"
    print(f"confluence {args.deployment} simulator listening on {sim.site} ({len(sim.content)} items, zone "
          f"{args.tz}; auth: {auth})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sim.serve_forever()
    return 0
