"""A faithful local Jira: Cloud (REST v3, `/search/jql` with `nextPageToken`) and Data Center (REST v2, `/search`
with `startAt`/`total`), with the traps real connectors fall into (see docs/source-apis.md):

- JQL date literals are minute-precision and read in the *account's* time zone, with DST; epoch milliseconds too.
- `updated` is rendered with the account's UTC offset (`2022-12-08T02:22:18.889-0800`).
- Cloud returns only `id` unless `fields` is given, no `total`, and fewer issues than asked; DC silently caps
  `maxResults`. Cloud's `nextPageToken` is an offset in disguise: issues that leave the result set mid-paging shift
  the rest (as any offset pager does), so a connector that trusts it blindly can skip issues.
- Embedded comments are capped at 20 (`total` tells the truth); the rest come from `/issue/{key}/comment`.
- A project that does not exist or that the account cannot see is a 400 naming the value.
- Auth: Cloud basic `email:api_token` (passwords refused), DC bearer PAT or basic, CAPTCHA after failed logins.
- 429 with `Retry-After` and `X-RateLimit-*` headers from a configurable rule.
- Hierarchy: epics (`hierarchyLevel` 1), standard issues (0) and sub-tasks (-1, `subtask: true`). A sub-task names
  its parent in `fields.parent`, its parent lists it in `fields.subtasks`. An issue in an epic names the epic in
  `fields.parent` on Cloud (since the 2023 parent change, company- and team-managed alike); Data Center keeps the
  older custom field "Epic Link" (`customfield_10100`, found by name in `/field`) holding the epic's *key*.

A mutation API (create/update/delete issues, comments, links at a given time) and a settable clock drive tests.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import orjson

from udc.simulators.base import Request, Response, SimServer, decode_basic

EMBEDDED_COMMENT_CAP = 20
CHANGELOG_CAP = 20
DEFAULT_FIELDS = (
    "summary", "status", "priority", "issuetype", "project", "assignee", "reporter", "created", "updated",
    "resolution", "resolutiondate", "labels", "components", "description", "issuelinks", "comment", "parent",
    "subtasks",
)
DATE_FORMATS_HELP = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
    "or a period format e.g. '-5d', '4w 2d'."
)
LINK_TYPES = {
    "Blocks": ("is blocked by", "blocks", "10000"),
    "Cloners": ("is cloned by", "clones", "10001"),
    "Duplicate": ("is duplicated by", "duplicates", "10002"),
    "Relates": ("relates to", "relates to", "10003"),
}
STATUSES = [("1", "Open", "new"), ("3", "In Progress", "indeterminate"), ("10001", "Done", "done")]
PRIORITIES = [("1", "Highest"), ("2", "High"), ("3", "Medium"), ("4", "Low")]
ISSUE_TYPES = [("10001", "Task"), ("10002", "Bug"), ("10003", "Story")]
EPIC, SUBTASK = ("10000", "Epic"), ("10004", "Sub-task")
# Data Center's Jira Software custom fields (their ids differ between instances: clients find them by name)
EPIC_LINK, EPIC_NAME = "customfield_10100", "customfield_10102"
WORDS = ("router", "latency", "database", "outage", "deploy", "certificate", "disk", "queue", "firewall", "cache",
         "timeout", "login", "backup", "dns", "vpn", "alert", "patch", "memory", "cluster", "gateway")


class JqlError(ValueError):
    """A JQL problem Jira reports as 400 with this message."""


# ---------------------------------------------------------------------------------------------------------------
# Data model


@dataclass
class SimUser:
    account_id: str
    name: str  # DC user name
    display_name: str
    email: str
    account_type: str = "atlassian"  # Cloud: "app" for apps and integrations, "customer" for JSM customers


@dataclass
class SimProject:
    id: str
    key: str
    name: str
    visible: bool = True  # False: exists, but the account has no browse permission
    next_number: int = 1


@dataclass
class SimComment:
    id: str
    author: SimUser
    body: str
    created: datetime
    updated: datetime


@dataclass
class SimLink:
    id: str
    type: str  # a LINK_TYPES name
    outward_id: int  # the issue on the outward side ("A blocks B": A)
    inward_id: int


@dataclass
class SimIssue:
    id: int
    project: SimProject
    number: int
    summary: str
    description: str
    status: tuple[str, str, str]
    priority: tuple[str, str]
    issuetype: tuple[str, str]
    reporter: SimUser
    assignee: SimUser | None
    created: datetime
    updated: datetime
    labels: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    comments: list[SimComment] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    parent_id: int | None = None  # a sub-task's parent, or the epic a standard issue belongs to

    @property
    def key(self) -> str:
        return f"{self.project.key}-{self.number}"

    @property
    def level(self) -> int:
        """Jira's `hierarchyLevel`: 1 for epics, 0 for standard issues, -1 for sub-tasks."""
        return 1 if self.issuetype == EPIC else -1 if self.issuetype == SUBTASK else 0

    @property
    def resolved(self) -> bool:
        return self.status[2] == "done"


@dataclass
class RateRule:
    """At most `limit` requests per `interval` seconds (fixed window on `clock`); over it: 429 with `retry_after`."""

    limit: int
    interval: float = 60.0
    retry_after: int = 1
    clock: Callable[[], float] = time.monotonic
    paths: tuple[str, ...] = ("/rest/",)
    _window_start: float = 0.0
    _count: int = 0

    def check(self, path: str) -> tuple[bool, int, float]:
        """(allowed, remaining, seconds until the window resets)."""
        if not path.startswith(self.paths):
            return True, self.limit, 0.0
        now = self.clock()
        if now - self._window_start >= self.interval:
            self._window_start, self._count = now, 0
        self._count += 1
        reset_in = self._window_start + self.interval - now
        return self._count <= self.limit, max(0, self.limit - self._count), reset_in


def jira_time(value: datetime, tz: ZoneInfo) -> str:
    """`2022-12-08T02:22:18.889-0800`: milliseconds and the offset of `tz` at that instant."""
    local = value.astimezone(tz)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + local.strftime("%z")


def adf(text: str, mention: SimUser | None = None) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format doc: paragraphs, `- ` bullet lists, ``` code blocks, a mention."""
    content: list[dict[str, Any]] = []
    for block in text.split("\n\n"):
        lines = block.split("\n")
        if block.startswith("```"):
            code = block.strip("`").strip("\n")
            content.append({"type": "codeBlock", "attrs": {}, "content": [{"type": "text", "text": code}]})
        elif all(line.startswith("- ") for line in lines):
            content.append({"type": "bulletList", "content": [
                {"type": "listItem", "content": [{"type": "paragraph", "content": [
                    {"type": "text", "text": line[2:]}]}]} for line in lines]})
        else:
            inline: list[dict[str, Any]] = []
            for i, line in enumerate(lines):
                if i:
                    inline.append({"type": "hardBreak"})
                if line:
                    inline.append({"type": "text", "text": line})
            content.append({"type": "paragraph", "content": inline})
    if mention is not None:
        content.append({"type": "paragraph", "content": [
            {"type": "text", "text": "cc "},
            {"type": "mention", "attrs": {"id": mention.account_id, "text": f"@{mention.display_name}"}}]})
    return {"type": "doc", "version": 1, "content": content}


# ---------------------------------------------------------------------------------------------------------------
# JQL subset


_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|>=|<=|!~|=|>|<|~|\(|\)|,)"""
    r"""|(?P<word>[^\s"'(),=!<>~]+))"""
)
_DATE_LITERAL = re.compile(r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")
_PERIOD = re.compile(r"^([+-]?)((?:\s*\d+\s*[wdhm])+)$")
_PERIOD_PART = re.compile(r"(\d+)\s*([wdhm])")
_FIELD_ALIASES = {"issuekey": "key", "issue": "key", "id": "key", "key": "key", "type": "issuetype"}
_KNOWN_FIELDS = {"project", "updated", "created", "key", "status", "issuetype", "priority", "labels", "resolution",
                 "summary", "text", "assignee", "reporter"}
_SORTABLE = {"updated", "created", "key", "priority", "status", "project", "summary", "issuetype"}

Predicate = Callable[[SimIssue], bool]


@dataclass
class Jql:
    where: Predicate | None
    order: list[tuple[str, bool]]  # (field, descending)
    projects: set[str] = field(default_factory=set)  # project values named anywhere in the query


class _Parser:
    def __init__(self, text: str, sim: JiraSim) -> None:
        self.sim = sim
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise JqlError(f"Error in the JQL Query: The character '{text[pos]}' is a reserved JQL character. "
                               f"You must enclose it in a string or use the escape '\\u{ord(text[pos]):04x}' instead. "
                               f"(line 1, character {pos + 1})")
            kind = match.lastgroup or "word"
            value = match.group(kind)
            if kind == "str":
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            self.tokens.append((kind, value))
            pos = match.end()
        self.i = 0
        self.projects: set[str] = set()

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def keyword(self, *words: str) -> bool:
        token = self.peek()
        if token and token[0] == "word" and token[1].lower() in words:
            self.i += 1
            return True
        return False

    def expect_op(self, op: str) -> None:
        token = self.peek()
        if not token or token != ("op", op):
            found = token[1] if token else "the end of the query"
            raise JqlError(f"Error in the JQL Query: Expecting '{op}' but got '{found}'.")
        self.i += 1

    def value(self) -> str:
        token = self.peek()
        if not token or token[0] == "op":
            found = token[1] if token else "the end of the query"
            raise JqlError(f"Error in the JQL Query: Expecting either a value, list or function but got '{found}'.")
        self.i += 1
        return token[1]

    def parse(self) -> Jql:
        where: Predicate | None = None
        if self.peek() and not self._at_order():
            where = self.or_expr()
        order: list[tuple[str, bool]] = []
        if self._at_order():
            self.i += 1
            if not self.keyword("by"):
                raise JqlError("Error in the JQL Query: Expecting 'by' after 'order'.")
            while True:
                name = self.value().lower()
                name = _FIELD_ALIASES.get(name, name)
                if name not in _SORTABLE:
                    raise JqlError(f"Not able to sort using field '{name}'.")
                desc = False
                if self.keyword("desc"):
                    desc = True
                else:
                    self.keyword("asc")
                order.append((name, desc))
                if self.peek() == ("op", ","):
                    self.i += 1
                    continue
                break
        extra = self.peek()
        if extra:
            raise JqlError(f"Error in the JQL Query: Expecting either 'OR' or 'AND' but got '{extra[1]}'.")
        return Jql(where, order, self.projects)

    def _at_order(self) -> bool:
        token = self.peek()
        return bool(token and token[0] == "word" and token[1].lower() == "order")

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.keyword("or"):
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda issue: any(p(issue) for p in parts))

    def and_expr(self) -> Predicate:
        parts = [self.not_expr()]
        while self.keyword("and"):
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else (lambda issue: all(p(issue) for p in parts))

    def not_expr(self) -> Predicate:
        if self.keyword("not"):
            inner = self.not_expr()
            return lambda issue: not inner(issue)
        if self.peek() == ("op", "("):
            self.i += 1
            inner = self.or_expr()
            self.expect_op(")")
            return inner
        return self.clause()

    def clause(self) -> Predicate:
        raw = self.value()
        name = _FIELD_ALIASES.get(raw.lower(), raw.lower())
        if name not in _KNOWN_FIELDS:
            raise JqlError(f"Field '{raw}' does not exist or you do not have permission to view it.")
        negate = False
        if self.keyword("is"):
            negate = self.keyword("not")
            if not self.keyword("empty", "null"):
                raise JqlError("Error in the JQL Query: Expecting 'EMPTY' or 'NULL'.")
            return self._empty(name, negate)
        if self.keyword("not"):
            negate = True
            if not self.keyword("in"):
                raise JqlError("Error in the JQL Query: Expecting 'IN' after 'NOT'.")
            return self._in(name, raw, negate)
        if self.keyword("in"):
            return self._in(name, raw, negate)
        token = self.peek()
        if not token or token[0] != "op" or token[1] in "(),":
            raise JqlError(f"Error in the JQL Query: Expecting operator but got '{token[1] if token else 'end'}'.")
        self.i += 1
        op = token[1]
        value = self.value()
        return self._compare(name, raw, op, value)

    def _in(self, name: str, raw: str, negate: bool) -> Predicate:
        self.expect_op("(")
        values = [self.value()]
        while self.peek() == ("op", ","):
            self.i += 1
            values.append(self.value())
        self.expect_op(")")
        tests = [self._compare(name, raw, "=", v) for v in values]
        if negate:
            return lambda issue: not any(t(issue) for t in tests)
        return lambda issue: any(t(issue) for t in tests)

    def _empty(self, name: str, negate: bool) -> Predicate:
        def empty(issue: SimIssue) -> bool:
            value = {"assignee": issue.assignee, "labels": issue.labels,
                     "resolution": issue.resolved or None}.get(name, "x")
            return not value
        return (lambda issue: not empty(issue)) if negate else empty

    def _compare(self, name: str, raw: str, op: str, value: str) -> Predicate:
        if name == "project":
            project = self.sim.resolve_project(value)
            self.projects.add(value)
            if op not in ("=", "!="):
                raise JqlError(f"The operator '{op}' is not supported by the 'project' field.")
            return (lambda i: i.project is project) if op == "=" else (lambda i: i.project is not project)
        if name in ("updated", "created"):
            at = self.sim.parse_date(value, raw)

            def stamp(issue: SimIssue) -> datetime:
                return issue.updated if name == "updated" else issue.created

            ops: dict[str, Callable[[datetime], bool]] = {
                "=": lambda t: t == at, "!=": lambda t: t != at, ">": lambda t: t > at, ">=": lambda t: t >= at,
                "<": lambda t: t < at, "<=": lambda t: t <= at,
            }
            if op not in ops:
                raise JqlError(f"The operator '{op}' is not supported by the '{raw}' field.")
            check = ops[op]
            return lambda issue: check(stamp(issue))
        if name == "key":
            target = self.sim.find_issue(value)
            number = target.id if target else -1
            if target is None and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*-\d+|\d+", value):
                raise JqlError(f"The issue key '{value}' for field '{raw}' is invalid.")
            if target is None and op == "=":
                raise JqlError(f"An issue with key '{value}' does not exist for field '{raw}'.")
            key_ops: dict[str, Callable[[SimIssue], bool]] = {
                "=": lambda i: i.id == number, "!=": lambda i: i.id != number,
            }
            if target is not None:
                tk = (target.project.key, target.number)
                key_ops |= {
                    ">": lambda i: i.project is target.project and i.number > tk[1],
                    ">=": lambda i: i.project is target.project and i.number >= tk[1],
                    "<": lambda i: i.project is target.project and i.number < tk[1],
                    "<=": lambda i: i.project is target.project and i.number <= tk[1],
                }
            if op not in key_ops:
                raise JqlError(f"The operator '{op}' is not supported by the '{raw}' field.")
            return key_ops[op]
        getters: dict[str, Callable[[SimIssue], list[str]]] = {
            "status": lambda i: [i.status[1]], "issuetype": lambda i: [i.issuetype[1]],
            "priority": lambda i: [i.priority[1]], "labels": lambda i: i.labels,
            "resolution": lambda i: ["Done"] if i.resolved else [],
            "assignee": lambda i: [i.assignee.name, i.assignee.account_id] if i.assignee else [],
            "reporter": lambda i: [i.reporter.name, i.reporter.account_id],
            "summary": lambda i: [i.summary], "text": lambda i: [i.summary, i.description],
        }
        get = getters[name]
        needle = value.lower()
        if op in ("~", "!~"):
            contains = op == "~"
            return lambda i: any(needle in v.lower() for v in get(i)) == contains
        if op == "=":
            return lambda i: any(v.lower() == needle for v in get(i))
        if op == "!=":
            return lambda i: all(v.lower() != needle for v in get(i))
        raise JqlError(f"The operator '{op}' is not supported by the '{raw}' field.")


# ---------------------------------------------------------------------------------------------------------------
# The server


class JiraSim(SimServer):
    name = "jira"

    def __init__(
        self,
        deployment: str = "cloud",
        tz: str = "America/Los_Angeles",
        seed: int = 0,
        issues: int = 60,
        projects: Sequence[str | tuple[str, str] | dict[str, Any]] = ("OPS", "NET", ("SEC", "hidden")),
        *,
        email: str = "bot@example.com",
        api_token: str = "ATATT3xFfGF0-sim-api-token-0123456789abcdef",
        password: str = "correct horse battery staple",
        pat: str = "NjM0NzQ5OTIyMzQ1OsimPAT0123456789abcdef",
        username: str = "svc-udc",
        captcha_after: int = 3,
        cloud_page_cap: int = 100,
        dc_page_cap: int = 1000,
        comment_page_cap: int = 100,
        now: datetime | None = None,
        span: timedelta = timedelta(days=30),
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if deployment not in ("cloud", "data_center"):
            raise ValueError("deployment must be 'cloud' or 'data_center'")
        super().__init__(host, port)
        self.deployment = deployment
        self.tz = ZoneInfo(tz)
        self.tz_name = tz
        self.rng = random.Random(seed)
        self.email, self.api_token, self.password = email, api_token, password
        self.pat, self.username = pat, username
        self.captcha_after = captcha_after
        self.failed_logins: dict[str, int] = {}
        self.cloud_page_cap, self.dc_page_cap, self.comment_page_cap = cloud_page_cap, dc_page_cap, comment_page_cap
        self.rate_rule: RateRule | None = None
        self.on_request: Callable[[Request], None] | None = None  # called before each request is served (tests)
        self.expose_time_zone = True  # False: /myself omits timeZone (as with some privacy settings)
        self.record_responses = False  # tests: keep (request, response) pairs in `exchanges` for spec validation
        self.exchanges: list[tuple[Request, Response]] = []
        self._clock = now
        self._lock = threading.RLock()
        self._next_issue_id = 10000
        self._next_comment_id = 20000
        self._next_link_id = 30000
        self.projects: list[SimProject] = []
        self.issues: dict[int, SimIssue] = {}
        self.links: dict[str, SimLink] = {}
        self.deleted: list[tuple[int, str, datetime]] = []  # (id, key, when)
        self.me = SimUser("5b10ac8d82e05b22cc7d4ef5", username, "UDC Service", email)
        self.users = [self.me] + [
            SimUser(f"5b10a2844c20165700ede{n:03d}", f"user{n}", name, f"user{n}@example.com")
            for n, name in enumerate(["Mia Krystof", "Ravi Patel", "Ana Souza", "Kenji Sato", "Lena Fischer"], 1)
        ]
        for spec in projects:
            self.add_project(spec)
        if issues:
            self._generate(issues, span)

    # -- clock and generation ---------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock if self._clock is not None else datetime.now(UTC)

    def set_clock(self, when: datetime | None) -> None:
        """Freeze the clock at `when` (None: follow real time)."""
        self._clock = when.astimezone(UTC) if when else None

    def advance(self, delta: timedelta) -> datetime:
        self._clock = self.now() + delta
        return self._clock

    def add_project(self, spec: str | tuple[str, str] | dict[str, Any]) -> SimProject:
        if isinstance(spec, str):
            spec = {"key": spec}
        elif isinstance(spec, tuple):
            spec = {"key": spec[0], "visible": spec[1] != "hidden"}
        key = spec["key"]
        with self._lock:
            project = SimProject(str(10000 + len(self.projects)), key, spec.get("name", f"{key.title()} project"),
                                 bool(spec.get("visible", True)))
            self.projects.append(project)
            return project

    def _generate(self, count: int, span: timedelta) -> None:
        """Issues spread over `span` before now, with comments (some >20), links, and a same-millisecond batch."""
        rng = self.rng
        end = self.now().replace(microsecond=0) - timedelta(minutes=5)
        start = end - span
        stamps = sorted(start + timedelta(milliseconds=rng.randrange(int(span.total_seconds() * 1000)))
                        for _ in range(count))
        # A bulk edit: several issues share one `updated` millisecond (ties across pages).
        if count >= 10:
            tie = stamps[count // 2]
            for j in range(count // 2, min(count, count // 2 + 7)):
                stamps[j] = tie
        rng.shuffle(stamps)  # issue ids (creation order) unrelated to `updated` order
        for n, updated in enumerate(stamps):
            project = self.projects[n % len(self.projects)]
            created = updated - timedelta(minutes=rng.randrange(1, 60 * 24 * 10))
            issue = self._new_issue(project, self._summary(), created)
            ncomments = 25 if n % 11 == 3 else rng.randrange(0, 4)
            for c in range(ncomments):
                when = created + (updated - created) * (c + 1) / (ncomments + 1)
                issue.comments.append(self._new_comment(rng.choice(self.users), f"Comment {c + 1}: {self._summary()}",
                                                        when))
            issue.updated = updated
        ids = sorted(self.issues)
        for n in range(0, len(ids) - 1, 5):
            a, b = self.issues[ids[n]], self.issues[ids[n + 1]]
            link_type = list(LINK_TYPES)[n % len(LINK_TYPES)]
            self._add_link(link_type, a.id, b.id)
        for project in self.projects:  # per project, in each run of 12 issues: an epic with 4 issues, 2 sub-tasks
            mine = [self.issues[i] for i in ids if self.issues[i].project is project]
            for first in range(0, len(mine) - 11, 12):
                run = mine[first:first + 12]
                run[0].issuetype = EPIC
                for child in run[1:5]:
                    child.parent_id = run[0].id
                for child in run[6:8]:
                    child.issuetype, child.parent_id = SUBTASK, run[5].id

    def _summary(self) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(4)).capitalize()

    def _new_issue(self, project: SimProject, summary: str, at: datetime, description: str | None = None
                   ) -> SimIssue:
        rng = self.rng
        with self._lock:
            issue = SimIssue(
                id=self._next_issue_id, project=project, number=project.next_number, summary=summary,
                description=description if description is not None else
                f"{summary}.\nSeen by on-call.\n\n- check {rng.choice(WORDS)}\n- restart {rng.choice(WORDS)}"
                f"\n\n```\nsystemctl status {rng.choice(WORDS)}\n```",
                status=rng.choice(STATUSES), priority=rng.choice(PRIORITIES), issuetype=rng.choice(ISSUE_TYPES),
                reporter=rng.choice(self.users), assignee=rng.choice([None, *self.users]),
                created=at, updated=at, labels=rng.sample(["infra", "customer", "p1", "backend"], rng.randrange(3)),
                components=rng.sample(["API", "Web", "Network"], rng.randrange(2)),
            )
            self._next_issue_id += 1
            project.next_number += 1
            self.issues[issue.id] = issue
            return issue

    def _new_comment(self, author: SimUser, body: str, at: datetime) -> SimComment:
        with self._lock:
            comment = SimComment(str(self._next_comment_id), author, body, at, at)
            self._next_comment_id += 1
            return comment

    def _add_link(self, link_type: str, outward_id: int, inward_id: int) -> SimLink:
        with self._lock:
            link = SimLink(str(self._next_link_id), link_type, outward_id, inward_id)
            self._next_link_id += 1
            self.links[link.id] = link
            return link

    # -- mutation API (tests) -----------------------------------------------------------------------------------

    def _at(self, at: datetime | None) -> datetime:
        when = (at or self.now()).astimezone(UTC)
        return when.replace(microsecond=when.microsecond // 1000 * 1000)

    def project(self, key: str) -> SimProject:
        return next(p for p in self.projects if p.key == key)

    def create_issue(self, project: str, summary: str = "", at: datetime | None = None,
                     description: str | None = None, issuetype: str | None = None, parent: str | None = None
                     ) -> SimIssue:
        """A new issue; `issuetype` "Epic" or "Sub-task" (with its `parent`), or a standard type (with an epic as
        `parent`, or none)."""
        with self._lock:
            issue = self._new_issue(self.project(project), summary or self._summary(), self._at(at), description)
            if issuetype is not None:
                issue.issuetype = next(t for t in (*ISSUE_TYPES, EPIC, SUBTASK) if t[1] == issuetype)
            if parent is not None or issue.issuetype == SUBTASK:
                try:
                    issue.parent_id = self._parent_for(issue, parent)
                except ValueError:
                    del self.issues[issue.id]
                    raise
            return issue

    def set_parent(self, key: str, parent: str | None, at: datetime | None = None) -> SimIssue:
        """Move an issue to another epic (or a sub-task to another parent); None takes it out of its epic. Only the
        moved issue's `updated` changes, as in Jira."""
        with self._lock:
            issue = self._issue(key)
            old = self.issues.get(issue.parent_id) if issue.parent_id else None
            issue.parent_id = self._parent_for(issue, parent)
            when = self._at(at)
            new = self.issues.get(issue.parent_id) if issue.parent_id else None
            issue.history.append({"field": "Parent" if self.deployment == "cloud" or issue.level < 0 else "Epic Link",
                                  "from": old.key if old else None, "to": new.key if new else None, "at": when})
            issue.updated = when
            return issue

    def _parent_for(self, issue: SimIssue, parent: str | None) -> int | None:
        """The id `parent` names, if Jira allows it: a sub-task's parent is a standard issue of its project; a
        standard issue's parent is an epic; an epic has none."""
        if parent is None:
            if issue.level < 0:
                raise ValueError("a sub-task needs a parent")
            return None
        target = self._issue(parent)
        if issue.level < 0 and (target.level != 0 or target.project is not issue.project):
            raise ValueError(f"{target.key} cannot be the parent of sub-task {issue.key}")
        if issue.level == 0 and target.level != 1:
            raise ValueError(f"{target.key} is not an epic")
        if issue.level > 0:
            raise ValueError("an epic has no parent here")
        return target.id

    def update_issue(self, key: str, at: datetime | None = None, **changes: Any) -> SimIssue:
        """Change fields (summary, description, labels, status name...) and bump `updated` to `at`."""
        with self._lock:
            issue = self._issue(key)
            when = self._at(at)
            for name, value in changes.items():
                if name == "status":
                    value = next(s for s in STATUSES if s[1] == value)
                old = getattr(issue, name)
                setattr(issue, name, value)
                issue.history.append({"field": name, "from": old, "to": value, "at": when})
            issue.updated = when
            return issue

    def touch(self, key: str, at: datetime | None = None) -> SimIssue:
        return self.update_issue(key, at)

    def delete_issue(self, key: str, at: datetime | None = None) -> None:
        """Delete an issue with its sub-tasks (Jira's `deleteSubtasks=true`); an epic's issues leave the epic."""
        with self._lock:
            issue = self._issue(key)
            del self.issues[issue.id]
            for link_id in [lid for lid, link in self.links.items() if issue.id in (link.outward_id, link.inward_id)]:
                del self.links[link_id]
            self.deleted.append((issue.id, issue.key, self._at(at)))
            for child in [i for i in self.issues.values() if i.parent_id == issue.id]:
                if child.level < 0:
                    self.delete_issue(child.key, at)
                else:
                    child.parent_id = None

    def add_comment(self, key: str, body: str, at: datetime | None = None, author: SimUser | None = None
                    ) -> SimComment:
        with self._lock:
            issue = self._issue(key)
            comment = self._new_comment(author or self.me, body, self._at(at))
            issue.comments.append(comment)
            issue.updated = comment.created
            return comment

    def delete_comment(self, key: str, comment_id: str, at: datetime | None = None) -> None:
        """Remove a comment (gone from the issue, its embedded list and /comment). Jira does not move the issue's
        `updated` for it: pass `at` to touch the issue as a later edit would."""
        with self._lock:
            issue = self._issue(key)
            issue.comments = [c for c in issue.comments if str(c.id) != str(comment_id)]
            if at is not None:
                issue.updated = at

    def link(self, outward_key: str, inward_key: str, link_type: str = "Blocks", at: datetime | None = None
             ) -> SimLink:
        with self._lock:
            a, b = self._issue(outward_key), self._issue(inward_key)
            when = self._at(at)
            a.updated = b.updated = when
            return self._add_link(link_type, a.id, b.id)

    def unlink(self, link_id: str, at: datetime | None = None) -> None:
        with self._lock:
            link = self.links.pop(link_id)
            when = self._at(at)
            for issue_id in (link.outward_id, link.inward_id):
                if issue_id in self.issues:
                    self.issues[issue_id].updated = when

    def set_rate_limit(self, limit: int | None, interval: float = 60.0, retry_after: int = 1,
                       clock: Callable[[], float] = time.monotonic) -> None:
        """Answer 429 once more than `limit` requests arrive in `interval` seconds (None: no limit)."""
        self.rate_rule = RateRule(limit, interval, retry_after, clock) if limit is not None else None

    def _issue(self, key_or_id: str) -> SimIssue:
        issue = self.find_issue(key_or_id)
        if issue is None:
            raise KeyError(key_or_id)
        return issue

    def find_issue(self, key_or_id: str) -> SimIssue | None:
        with self._lock:
            if key_or_id.isdigit():
                return self.issues.get(int(key_or_id))
            return next((i for i in self.issues.values() if i.key.upper() == key_or_id.upper()), None)

    def visible_issues(self) -> list[SimIssue]:
        with self._lock:
            return [i for i in self.issues.values() if i.project.visible]

    # -- JQL support --------------------------------------------------------------------------------------------

    def resolve_project(self, value: str) -> SimProject:
        for project in self.projects:
            names = (project.key.upper(), project.id, project.name.upper())
            if project.visible and value.upper() in names:
                return project
        raise JqlError(f"The value '{value}' does not exist for the field 'project'.")

    def parse_date(self, value: str, field_name: str) -> datetime:
        """A JQL date value: epoch milliseconds, a period like -5d, or a literal in the account's time zone."""
        text = value.strip()
        if re.fullmatch(r"\d{9,}", text):
            return datetime.fromtimestamp(int(text) / 1000, UTC)
        period = _PERIOD.match(text)
        if period:
            seconds = sum(int(n) * {"w": 604800, "d": 86400, "h": 3600, "m": 60}[u]
                          for n, u in _PERIOD_PART.findall(period.group(2)))
            sign = -1 if period.group(1) == "-" else 1
            return self.now() + timedelta(seconds=sign * seconds)
        match = _DATE_LITERAL.match(text)
        if not match:
            raise JqlError(f"Date value '{value}' for field '{field_name}' is invalid. {DATE_FORMATS_HELP}")
        y, mo, d, h, mi = (int(g) if g else 0 for g in match.groups())
        try:
            local = datetime(y, mo, d, h, mi)
        except ValueError:
            raise JqlError(f"Date value '{value}' for field '{field_name}' is invalid. {DATE_FORMATS_HELP}") from None
        # Like java.time: an ambiguous local time (DST fall-back) takes the earlier offset; a time in the
        # spring-forward gap moves later by the length of the gap. zoneinfo's fold=0 does both.
        return local.replace(tzinfo=self.tz).astimezone(UTC)

    def parse_jql(self, text: str) -> Jql:
        return _Parser(text, self).parse()

    def search(self, jql: str) -> list[SimIssue]:
        parsed = self.parse_jql(jql)
        with self._lock:
            found = [i for i in self.visible_issues() if parsed.where is None or parsed.where(i)]
        found.sort(key=lambda i: -i.id)  # final tie-break: nothing a client should rely on
        for name, desc in reversed(parsed.order or [("key", True)]):
            found.sort(key=_sort_key(name), reverse=desc)
        return found

    # -- rendering ------------------------------------------------------------------------------------------------

    @property
    def api(self) -> str:
        return "3" if self.deployment == "cloud" else "2"

    def time(self, value: datetime) -> str:
        return jira_time(value, self.tz)

    def user_json(self, user: SimUser | None, api: str) -> dict[str, Any] | None:
        if user is None:
            return None
        base = self.url
        if api == "3":
            return {"self": f"{base}/rest/api/3/user?accountId={user.account_id}", "accountId": user.account_id,
                    "accountType": user.account_type, "displayName": user.display_name, "emailAddress": user.email,
                    "active": True, "timeZone": self.tz_name,
                    "avatarUrls": {s: f"{base}/avatar/{user.account_id}?s={s[:2]}" for s in
                                   ("16x16", "24x24", "32x32", "48x48")}}
        return {"self": f"{base}/rest/api/2/user?username={user.name}", "name": user.name, "key": user.name,
                "displayName": user.display_name, "emailAddress": user.email, "active": True,
                "timeZone": self.tz_name}

    def project_json(self, project: SimProject, api: str, full: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "self": f"{self.url}/rest/api/{api}/project/{project.id}", "id": project.id, "key": project.key,
            "name": project.name, "projectTypeKey": "software", "simplified": False,
            "avatarUrls": {s: f"{self.url}/secure/projectavatar?pid={project.id}&size={s}" for s in
                           ("16x16", "24x24", "32x32", "48x48")},
        }
        if full:
            out |= {"expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
                    "style": "classic", "isPrivate": False, "properties": {}}
        return out

    def comment_json(self, issue: SimIssue, comment: SimComment, api: str) -> dict[str, Any]:
        body: Any = adf(comment.body) if api == "3" else comment.body
        out = {"self": f"{self.url}/rest/api/{api}/issue/{issue.id}/comment/{comment.id}", "id": comment.id,
               "author": self.user_json(comment.author, api), "body": body,
               "updateAuthor": self.user_json(comment.author, api), "created": self.time(comment.created),
               "updated": self.time(comment.updated)}
        if api == "3":
            out["jsdPublic"] = True
        return out

    def link_json(self, issue: SimIssue, link: SimLink, api: str) -> dict[str, Any]:
        inward, outward, type_id = LINK_TYPES[link.type]
        out: dict[str, Any] = {
            "id": link.id, "self": f"{self.url}/rest/api/{api}/issueLink/{link.id}",
            "type": {"id": type_id, "name": link.type, "inward": inward, "outward": outward,
                     "self": f"{self.url}/rest/api/{api}/issueLinkType/{type_id}"},
        }
        other_id, side = (link.inward_id, "outwardIssue") if link.outward_id == issue.id else \
            (link.outward_id, "inwardIssue")
        other = self.issues.get(other_id)
        if other is not None:
            out[side] = {"id": str(other.id), "key": other.key, "self": f"{self.url}/rest/api/{api}/issue/{other.id}",
                         "fields": {"summary": other.summary, "status": self.status_json(other, api)}}
        return out

    def _link_visible(self, link: SimLink) -> bool:
        """Jira hides a link whose other end the account cannot browse."""
        ends = [self.issues.get(link.outward_id), self.issues.get(link.inward_id)]
        return all(end is not None and end.project.visible for end in ends)

    def visible_links(self) -> list[SimLink]:
        with self._lock:
            return [link for link in self.links.values() if self._link_visible(link)]

    def status_json(self, issue: SimIssue, api: str) -> dict[str, Any]:
        sid, name, category = issue.status
        return {"self": f"{self.url}/rest/api/{api}/status/{sid}", "id": sid, "name": name,
                "statusCategory": {"key": category, "name": {"new": "To Do", "indeterminate": "In Progress",
                                                             "done": "Done"}[category]}}

    def field_value(self, issue: SimIssue, name: str, api: str) -> Any:
        base = f"{self.url}/rest/api/{api}"
        if name == "summary":
            return issue.summary
        if name == "status":
            return self.status_json(issue, api)
        if name == "priority":
            return {"self": f"{base}/priority/{issue.priority[0]}", "id": issue.priority[0], "name": issue.priority[1]}
        if name == "issuetype":
            return self.issuetype_json(issue, api)
        if name == "parent":
            parent = self.issues.get(issue.parent_id) if issue.parent_id else None
            if parent is None or (self.deployment == "data_center" and parent.level > 0):
                return _ABSENT  # Data Center names an epic in Epic Link
            return self.linked_issue_json(parent, api)
        if name == "subtasks":
            return [self.linked_issue_json(i, api) for i in sorted(self.issues.values(), key=lambda i: i.id)
                    if i.parent_id == issue.id and i.level < 0]
        if name == EPIC_LINK:
            epic = self.issues.get(issue.parent_id) if issue.parent_id else None
            return epic.key if epic is not None and epic.level > 0 else None
        if name == EPIC_NAME:
            return issue.summary if issue.level > 0 else None
        if name == "project":
            return self.project_json(issue.project, api)
        if name in ("assignee", "reporter", "creator"):
            return self.user_json(issue.reporter if name == "creator" else getattr(issue, name), api)
        if name in ("created", "updated"):
            return self.time(getattr(issue, name))
        if name == "resolution":
            return {"self": f"{base}/resolution/1", "id": "1", "name": "Done"} if issue.resolved else None
        if name == "resolutiondate":
            return self.time(issue.updated) if issue.resolved else None
        if name == "labels":
            return list(issue.labels)
        if name == "components":
            return [{"self": f"{base}/component/{100 + n}", "id": str(100 + n), "name": c}
                    for n, c in enumerate(issue.components)]
        if name == "description":
            if not issue.description:
                return None
            return adf(issue.description, issue.assignee) if api == "3" else issue.description
        if name == "issuelinks":
            return [self.link_json(issue, link, api) for link in sorted(self.links.values(), key=lambda x: x.id)
                    if issue.id in (link.outward_id, link.inward_id) and self._link_visible(link)]
        if name == "comment":
            embedded = issue.comments[:EMBEDDED_COMMENT_CAP]
            return {"comments": [self.comment_json(issue, c, api) for c in embedded],
                    "self": f"{base}/issue/{issue.id}/comment", "maxResults": len(embedded),
                    "total": len(issue.comments), "startAt": 0}
        if name == "watches":
            return {"self": f"{base}/issue/{issue.key}/watchers", "watchCount": 1, "isWatching": False}
        return None

    @property
    def all_fields(self) -> tuple[str, ...]:
        extra = (EPIC_LINK, EPIC_NAME) if self.deployment == "data_center" else ()
        return (*DEFAULT_FIELDS, "creator", "watches", *extra)

    def issuetype_json(self, issue: SimIssue, api: str) -> dict[str, Any]:
        type_id, name = issue.issuetype
        out: dict[str, Any] = {"self": f"{self.url}/rest/api/{api}/issuetype/{type_id}", "id": type_id,
                               "name": name, "subtask": issue.level < 0}
        if api == "3":
            out["hierarchyLevel"] = issue.level
        return out

    def linked_issue_json(self, issue: SimIssue, api: str) -> dict[str, Any]:
        """How `parent` and `subtasks` show another issue: id, key and its key fields."""
        return {"id": str(issue.id), "key": issue.key, "self": f"{self.url}/rest/api/{api}/issue/{issue.id}",
                "fields": {"summary": issue.summary, "status": self.status_json(issue, api),
                           "priority": self.field_value(issue, "priority", api),
                           "issuetype": self.issuetype_json(issue, api)}}

    def issue_json(self, issue: SimIssue, fields: list[str] | None, api: str, changelog: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
                               "id": str(issue.id), "self": f"{self.url}/rest/api/{api}/issue/{issue.id}",
                               "key": issue.key}
        wanted = self._wanted_fields(fields)
        if wanted is None:  # Cloud's default: ids only
            return {"id": str(issue.id)}
        values = ((name, self.field_value(issue, name, api)) for name in wanted)
        out["fields"] = {name: value for name, value in values if value is not _ABSENT}
        if changelog:
            histories = [{"id": str(50000 + n), "author": self.user_json(self.me, api), "created": self.time(h["at"]),
                          "items": [{"field": h["field"], "fieldtype": "jira", "fromString": str(h["from"]),
                                     "toString": str(h["to"])}]}
                         for n, h in enumerate(issue.history)]
            histories = list(reversed(histories))[:CHANGELOG_CAP]
            out["changelog"] = {"startAt": 0, "maxResults": len(histories), "total": len(issue.history),
                                "histories": histories}
        return out

    def _wanted_fields(self, fields: list[str] | None) -> list[str] | None:
        if not fields:
            return None if self.deployment == "cloud" else list(self.all_fields)
        names: list[str] = []
        excluded: set[str] = set()
        for item in fields:
            for name in (n.strip() for n in item.split(",")):
                if not name:
                    continue
                if name in ("*all", "*navigable"):
                    names.extend(self.all_fields)
                elif name.startswith("-"):
                    excluded.add(name[1:])
                elif name == "id" or name in ("key", "self"):
                    continue
                else:
                    names.append(name)
        if not names and excluded:
            names = list(self.all_fields)
        seen: list[str] = []
        for name in names:
            if name not in excluded and name not in seen:
                seen.append(name)
        if not seen and not excluded:
            return None if self.deployment == "cloud" else []
        return seen

    # -- HTTP -------------------------------------------------------------------------------------------------------

    def fault_response(self, kind: str, request: Request) -> Response | None:
        if kind == "429":
            return self._too_many(self.faults.retry_after, 0)
        return super().fault_response(kind, request)

    def _too_many(self, retry_after: int, remaining: int) -> Response:
        reset_at = datetime.now(UTC) + timedelta(seconds=retry_after)  # consistent with Retry-After, as Jira is
        headers = {"Retry-After": str(retry_after), "X-RateLimit-Limit": str(self.rate_rule.limit if self.rate_rule
                                                                             else 100),
                   "X-RateLimit-Remaining": str(remaining)}
        if self.deployment == "cloud":
            headers |= {"X-RateLimit-Reset": reset_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "X-RateLimit-NearLimit": "true",
                        "RateLimit-Reason": "jira-quota-tenant-based"}
        else:
            headers |= {"X-RateLimit-FillRate": "10", "X-RateLimit-Interval-Seconds": "1"}
        return Response.json({"errorMessages": ["Rate limit exceeded."], "errors": {}}, 429, headers)

    def handle(self, request: Request) -> Response:
        response = self._handle(request)
        if self.record_responses:
            with self._lock:
                self.exchanges.append((request, response))
        return response

    def _handle(self, request: Request) -> Response:
        if self.on_request is not None:
            self.on_request(request)
        if self.rate_rule is not None:
            with self._lock:
                allowed, remaining, _ = self.rate_rule.check(request.path)
            if not allowed:
                return self._too_many(self.rate_rule.retry_after, remaining)
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        try:
            return self._route(request)
        except JqlError as exc:
            return _errors(400, str(exc))

    def _authenticate(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        if self.deployment == "cloud":
            if scheme.lower() == "basic":
                user, secret = decode_basic(credentials)
                if user.lower() == self.email.lower() and secret == self.api_token:
                    return None
            return Response(401, b"Client must be authenticated to access this resource.",
                            {"Content-Type": "text/plain;charset=UTF-8", "X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
                             "WWW-Authenticate": 'Basic realm="protected-area"'})
        if scheme.lower() == "bearer":
            if credentials == self.pat:
                return None
            return _errors(401, "You are not authenticated. Authentication required to perform this operation.",
                           {"WWW-Authenticate": 'OAuth realm="' + self.url + '"'})
        if scheme.lower() == "basic":
            user, secret = decode_basic(credentials)
            with self._lock:
                failures = self.failed_logins.get(user, 0)
                if failures >= self.captcha_after:
                    return _errors(403, "CAPTCHA_CHALLENGE", {
                        "X-Authentication-Denied-Reason": f"CAPTCHA_CHALLENGE; login-url={self.url}/login.jsp",
                        "X-Seraph-LoginReason": "AUTHENTICATION_DENIED"})
                if user == self.username and secret == self.password:
                    self.failed_logins[user] = 0
                    return None
                self.failed_logins[user] = failures + 1
        return _errors(401, "You are not authenticated. Authentication required to perform this operation.",
                       {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"})

    def _route(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        match = re.fullmatch(r"/rest/api/(2|3|latest)(/.*)", path)
        if not match:
            return _errors(404, "null for uri: " + path)
        api, rest = match.group(1), match.group(2)
        if api == "latest":
            api = "2"
        if self.deployment == "data_center" and api == "3":
            return _errors(404, "null for uri: " + path)
        if rest == "/search/jql" and self.deployment == "cloud":
            if request.method == "POST":
                body = orjson.loads(request.body or b"{}")
                return self._search_cloud(api, body)
            return self._search_cloud(api, {
                "jql": request.arg("jql", ""), "nextPageToken": request.arg("nextPageToken"),
                "maxResults": request.arg("maxResults"), "fields": request.query.get("fields"),
                "expand": request.arg("expand", "")})
        if rest == "/search":
            if self.deployment == "cloud":
                return _errors(410, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql "
                                    "API. A full migration guideline is available at "
                                    "https://developer.atlassian.com/changelog/#CHANGE-2046")
            if request.method == "POST":
                return self._search_dc(api, orjson.loads(request.body or b"{}"))
            return self._search_dc(api, {
                "jql": request.arg("jql", ""), "startAt": request.arg("startAt"),
                "maxResults": request.arg("maxResults"), "fields": request.query.get("fields"),
                "expand": request.arg("expand", "")})
        if request.method != "GET":
            return _errors(405, "Method Not Allowed")
        if rest == "/myself":
            return Response.json(self._myself(api))
        if rest == "/serverInfo":
            return Response.json({"baseUrl": self.url, "version": "1001.0.0" if api == "3" else "9.12.0",
                                  "deploymentType": "Cloud" if self.deployment == "cloud" else "Server",
                                  "serverTimeZone": "UTC" if self.deployment == "cloud" else self.tz_name})
        if rest == "/field":
            return Response.json(self._fields())
        if rest == "/project":
            return Response.json([self.project_json(p, api) for p in self.projects if p.visible])
        if rest == "/users/search" and self.deployment == "cloud":
            return self._user_search(api, request, None)
        if rest == "/user/search" and self.deployment == "data_center":
            return self._user_search(api, request, request.arg("username"))
        if rest == "/project/search" and self.deployment == "cloud":
            return self._project_search(api, request)
        project_match = re.fullmatch(r"/project/([^/]+)", rest)
        if project_match:
            wanted = unquote(project_match.group(1))
            for p in self.projects:
                if p.visible and wanted.upper() in (p.key.upper(), p.id):
                    return Response.json(self.project_json(p, api, full=True))
            return _errors(404, f"No project could be found with key '{wanted}'.")
        comment_match = re.fullmatch(r"/issue/([^/]+)/comment", rest)
        if comment_match:
            return self._comments(api, unquote(comment_match.group(1)), request)
        issue_match = re.fullmatch(r"/issue/([^/]+)", rest)
        if issue_match:
            issue = self.find_issue(unquote(issue_match.group(1)))
            if issue is None or not issue.project.visible:
                return _errors(404, "Issue does not exist or you do not have permission to see it.")
            fields = request.query.get("fields") or ["*all"]
            return Response.json(self.issue_json(issue, fields, api, "changelog" in (request.arg("expand") or "")))
        return _errors(404, "null for uri: " + path)

    def _fields(self) -> list[dict[str, Any]]:
        types = {"summary": "string", "description": "string", "created": "datetime", "updated": "datetime",
                 "resolutiondate": "datetime", "labels": "array", "components": "array", "issuelinks": "array",
                 "comment": "comments-page", "assignee": "user", "reporter": "user", "creator": "user",
                 "parent": "issuelink", "subtasks": "array"}
        names = {"subtasks": "Sub-tasks", "issuelinks": "Linked Issues", "issuetype": "Issue Type"}
        custom = {EPIC_LINK: ("Epic Link", "any", "gh-epic-link"), EPIC_NAME: ("Epic Name", "string", "gh-epic-label")}
        out = []
        for name in self.all_fields:
            if name in custom:
                label, kind, plugin = custom[name]
                number = int(name.rpartition("_")[2])
                out.append({"id": name, "key": name, "name": label, "custom": True, "orderable": True,
                            "navigable": True, "searchable": True, "clauseNames": [f"cf[{number}]", label],
                            "schema": {"type": kind, "custom": f"com.pyxis.greenhopper.jira:{plugin}",
                                       "customId": number}})
                continue
            out.append({"id": name, "key": name, "name": names.get(name, name.capitalize()), "custom": False,
                        "orderable": True, "navigable": True, "searchable": True, "clauseNames": [name],
                        "schema": {"type": types.get(name, name), "system": name}})
        return out

    def _myself(self, api: str) -> dict[str, Any]:
        out = self.user_json(self.me, api) or {}
        if not self.expose_time_zone:
            out.pop("timeZone", None)
        out |= {"locale": "en_US", "expand": "groups,applicationRoles",
                "groups": {"size": 1, "items": []}, "applicationRoles": {"size": 1, "items": []}}
        return out

    def _search_cloud(self, api: str, params: dict[str, Any]) -> Response:
        jql = str(params.get("jql") or "")
        parsed = self.parse_jql(jql)
        if parsed.where is None:
            return _errors(400, "Unbounded JQL queries are not allowed here. Please add a search restriction to "
                                "your query.")
        try:
            asked = int(params.get("maxResults") or 50)
        except ValueError:
            return _errors(400, "The value for maxResults is invalid.")
        fields = params.get("fields")
        if isinstance(fields, str):
            fields = [fields]
        wanted = self._wanted_fields(fields)
        cap = 5000 if not wanted else self.cloud_page_cap
        size = max(1, min(asked, cap))
        offset = 0
        token = params.get("nextPageToken")
        if token:
            decoded = _decode_token(token)
            if decoded is None or decoded[1] != _jql_digest(jql):
                return _errors(400, "The provided next page token is invalid or expired.")
            offset = decoded[0]
        issues = self.search(jql)
        page = issues[offset:offset + size]
        changelog = "changelog" in str(params.get("expand") or "")
        out: dict[str, Any] = {"issues": [self.issue_json(i, fields, api, changelog) for i in page]}
        if offset + size < len(issues):
            out["nextPageToken"] = _encode_token(offset + size, _jql_digest(jql))
            out["isLast"] = False
        else:
            out["isLast"] = True
        return Response.json(out)

    def _search_dc(self, api: str, params: dict[str, Any]) -> Response:
        jql = str(params.get("jql") or "")
        try:
            start = int(params.get("startAt") or 0)
            raw_size = params.get("maxResults")
            asked = int(raw_size) if raw_size is not None else 50
        except ValueError:
            return _errors(400, "The value for startAt or maxResults is invalid.")
        size = max(0, min(asked, self.dc_page_cap))  # silently capped
        issues = self.search(jql)
        fields = params.get("fields")
        if isinstance(fields, str):
            fields = [fields]
        changelog = "changelog" in str(params.get("expand") or "")
        page = issues[start:start + size]
        return Response.json({"expand": "schema,names", "startAt": start, "maxResults": size, "total": len(issues),
                              "issues": [self.issue_json(i, fields, api, changelog) for i in page]})

    def _user_search(self, api: str, request: Request, username: str | None) -> Response:
        """Cloud's /users/search (every user, a plain list, empty past the end) and Data Center's /user/search
        (`username` required: "." matches everyone; `maxResults` at most 1000)."""
        if self.deployment == "data_center" and not username:
            return _errors(400, "The username query parameter was not provided")
        start = int(request.arg("startAt", "0") or 0)
        size = min(int(request.arg("maxResults", "50") or 50), 1000)
        needle = (username or ".").lower()
        matching = [u for u in self.users if needle == "." or needle in f"{u.name} {u.display_name} {u.email}".lower()]
        return Response.json([self.user_json(u, api) for u in matching[start:start + size]])

    def _project_search(self, api: str, request: Request) -> Response:
        start = int(request.arg("startAt", "0") or 0)
        size = min(int(request.arg("maxResults", "50") or 50), 100)
        keys = {k.upper() for v in request.query.get("keys", []) for k in v.split(",") if k}
        visible = [p for p in self.projects if p.visible and (not keys or p.key.upper() in keys)]
        page = visible[start:start + size]
        base = f"{self.url}/rest/api/{api}/project/search"
        out: dict[str, Any] = {"self": f"{base}?startAt={start}&maxResults={size}", "maxResults": size,
                               "startAt": start, "total": len(visible), "isLast": start + size >= len(visible),
                               "values": [self.project_json(p, api, full=True) for p in page]}
        if not out["isLast"]:
            out["nextPage"] = f"{base}?startAt={start + size}&maxResults={size}"
        return Response.json(out)

    def _comments(self, api: str, key: str, request: Request) -> Response:
        issue = self.find_issue(key)
        if issue is None or not issue.project.visible:
            return _errors(404, "Issue does not exist or you do not have permission to see it.")
        try:
            start = int(request.arg("startAt", "0") or 0)
            asked = int(request.arg("maxResults", "100") or 100)
        except ValueError:
            return _errors(400, "The value for startAt or maxResults is invalid.")
        order = request.arg("orderBy")
        if order and order.lstrip("+-") != "created":
            return _errors(400, "The orderBy parameter must be 'created'.")
        comments = list(issue.comments)
        if order == "-created":
            comments.reverse()
        size = max(0, min(asked, self.comment_page_cap))
        page = comments[start:start + size]
        return Response.json({"startAt": start, "maxResults": size, "total": len(comments),
                              "comments": [self.comment_json(issue, c, api) for c in page]})

    # -- introspection for tests ----------------------------------------------------------------------------------

    def issue_snapshot(self) -> dict[str, str]:
        """Visible issue id → `updated` as a cursor-comparable UTC ISO string."""
        with self._lock:
            return {str(i.id): i.updated.strftime("%Y-%m-%dT%H:%M:%S.%fZ") for i in self.visible_issues()}

    def data_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path.startswith("/rest/")]


def _sort_key(name: str) -> Callable[[SimIssue], Any]:
    if name == "updated":
        return lambda i: i.updated
    if name == "created":
        return lambda i: i.created
    if name in ("key", "project"):
        return lambda i: (i.project.key, i.number) if name == "key" else i.project.key
    if name == "priority":
        return lambda i: int(i.priority[0])
    if name == "status":
        return lambda i: i.status[1]
    if name == "issuetype":
        return lambda i: i.issuetype[1]
    return lambda i: i.summary


_ABSENT = object()  # a field Jira leaves out of `fields` (rather than null) when it has no value


def _errors(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response.json({"errorMessages": [message], "errors": {}}, status, headers)


def _jql_digest(jql: str) -> str:
    return hashlib.sha1(jql.strip().encode()).hexdigest()[:12]


def _encode_token(offset: int, digest: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"o": offset, "q": digest})).decode().rstrip("=")


def _decode_token(token: str) -> tuple[int, str] | None:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(data["o"]), str(data["q"])
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m udc.simulators jira`: serve a seeded Jira (Cloud or Data Center) in the foreground."""
    parser = argparse.ArgumentParser(prog="python -m udc.simulators jira",
                                     description="Serve a seeded Jira Cloud (v3) or Data Center (v2).")
    parser.add_argument("--deployment", choices=["cloud", "data_center"], default="cloud")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on start)")
    parser.add_argument("--issues", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tz", default="America/Los_Angeles", help="the account's time zone")
    parser.add_argument("--project", action="append", default=[], metavar="KEY[:hidden]",
                        help="repeatable; default OPS, NET and a hidden SEC")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--rate-limit", type=int, default=None, help="requests per minute before 429")
    args = parser.parse_args(argv)
    projects: list[str | tuple[str, str] | dict[str, Any]] = [
        (p.split(":")[0], "hidden") if p.endswith(":hidden") else p for p in args.project
    ] or ["OPS", "NET", ("SEC", "hidden")]
    sim = JiraSim(args.deployment, args.tz, args.seed, args.issues, projects, host=args.host, port=args.port)
    sim.faults.latency = args.latency
    if args.rate_limit:
        sim.set_rate_limit(args.rate_limit, 60.0)
    auth = (f"basic {sim.email} / {sim.api_token}" if args.deployment == "cloud" else f"bearer {sim.pat}")
    print(f"jira {args.deployment} simulator listening on {sim.url} ({len(sim.issues)} issues, account zone "
          f"{args.tz}; auth: {auth})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sim.serve_forever()
    return 0
