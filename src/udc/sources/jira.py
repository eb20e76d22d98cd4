"""Jira connector: Cloud (REST v3, `/search/jql` + `nextPageToken`) and Data Center (REST v2, `/search` + `startAt`).

The cursor is `updated`. JQL dates are minute-precision and read in the *account's* time zone (with DST), which
is where naive connectors lose issues. This one never writes a naive UTC literal:

- Cloud bounds the window with epoch milliseconds (`updated >= 1732877091000`): exact, zone-free.
- Data Center reads the account zone from `/myself` and writes `"yyyy/MM/dd HH:mm"` literals chosen so that
  *every* reading of the literal (both sides of a DST fold, either side of a spring-forward gap) lies at least a
  minute before the cursor (lower bound) or after the window end (upper bound) (see `udc.sources.atlassian`); issues
  outside the window, and the overlap, are dropped client-side: only issues after the last (updated, key) are kept.

Paging is a keyset (`udc.sources.keyset`): after each page the query restarts from the last position it stored, so
issues that change (and so leave the window) while we page never shift unseen issues past us, as they would with an
offset or an offset-like `nextPageToken`. `nextPageToken` / `startAt` are used only to step through a run of
already-seen issues (more equal timestamps than a page holds), and only the API's own end signal (`isLast` or no
token on Cloud, `startAt + len(issues) >= total` on DC) ends a stream; a page shorter than asked does not.

Streams: `issues` (ADF description kept as given plus `description_text`), `comments` (beyond the 20 embedded ones
from `/issue/{id}/comment`), `issue_links` (one record per link) and `projects`. Graph links (issue → project,
issue ↔ issue, issue → parent, comment → issue) travel with their records, so a removed link leaves the graph when
its issue is synced again. The parent link is stated by the child (a sub-task, or an issue in an epic): moving an
issue changes the child's `updated`, never the old or new parent's. Cloud names the parent (`fields.parent`, by id)
for both; Data Center names a sub-task's parent there too, but an epic in the "Epic Link" custom field, by key:
its id differs between instances, so it is found by name in `/field`, and the link resolves by key when read.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from udc.config import BasicAuth, BearerAuth, Config, JiraConnector, JiraPipeline, TableSpec
from udc.errors import ConfigError, SourceError, UdcError
from udc.http.client import CallStats, HttpClient, HttpError
from udc.http.errors import source_message
from udc.records import Edge, Page, Person, Position, Record, Window
from udc.sources.atlassian import adf_text, epoch_ms, lower_literal, upper_literal
from udc.sources.base import DirectoryUnreadable, Stream
from udc.sources.diagnostics import Finding, check_client, connection_findings
from udc.sources.keyset import SNAPSHOT_CURSOR, Batch, KeysetStream, dataset_of
from udc.timeutil import cursor_str, parse_time

log = logging.getLogger("udc.jira")

KEY = "id"  # the key of every Jira table: issues, comments, links and projects by their own ids
DEFAULT_FIELDS = (
    "summary", "status", "priority", "issuetype", "project", "assignee", "reporter", "created", "updated",
    "resolution", "labels", "components", "description", "issuelinks", "comment", "parent",
)
EPIC_LINK = "epic link"  # Data Center's (and older Cloud sites') custom field naming an issue's epic by key
EMBEDDED_COMMENTS = 20
# the deletion census asks for ids only: Cloud's /search/jql then pages up to 5000 issues, Data Center's /search up
# to its jira.search.views.default.max (1000 by default; a smaller cap only means more pages)
CENSUS_PAGE = {"cloud": 5000, "data_center": 1000}
COMMENT_PAGE = 100
ORDER = " ORDER BY updated ASC, key ASC"
_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)
_PROJECT_CLAUSE = re.compile(
    r"""\bproject\s*(?:=|!=|\bnot\s+in\b|\bin\b)\s*(\((?:[^()"']|"[^"]*"|'[^']*')*\)|"[^"]*"|'[^']*'|[^\s()]+)""",
    re.IGNORECASE)
_NO_PROJECT = re.compile(r"The value '([^']*)' does not exist for the field 'project'")


# ---------------------------------------------------------------------------------------------------------------
# Pure helpers (unit-tested directly)


def sort_key(issue_key: str) -> str:
    """A string whose order is Jira's `ORDER BY key` order (project key, then issue number)."""
    project, _, number = issue_key.rpartition("-")
    return f"{project}-{int(number):012d}" if number.isdigit() else issue_key


def strip_order_by(jql: str) -> str:
    """The user's JQL without its ORDER BY clause (the connector sets the order), outside quotes only."""
    in_quote: str | None = None
    for i, ch in enumerate(jql):
        if in_quote:
            if ch == in_quote:
                in_quote = None
        elif ch in "\"'":
            in_quote = ch
        elif ch in "oO" and _ORDER_BY.match(jql, i) and (i == 0 or not jql[i - 1].isalnum()):
            return jql[:i].strip()
    return jql.strip()


def projects_in(jql: str) -> list[str]:
    """Project values named in `project = X`, `project in (A, B)` clauses (for diagnostics and the projects table)."""
    names: list[str] = []
    for match in _PROJECT_CLAUSE.finditer(jql or ""):
        value = match.group(1).strip()
        parts = value[1:-1].split(",") if value.startswith("(") else [value]
        for part in parts:
            name = part.strip().strip("\"'")
            if name and name not in names:
                names.append(name)
    return names




# ---------------------------------------------------------------------------------------------------------------
# API access


@dataclass
class Account:
    name: str
    time_zone: str | None
    tz: ZoneInfo | None


class JiraApi:
    """The Jira REST calls the streams share: account, windowed issue search (keyset), comments, projects."""

    def __init__(self, client: HttpClient, deployment: Literal["cloud", "data_center"], jql: str, batch_size: int,
                 auth_kind: str = "basic") -> None:
        self.client = client
        self.deployment = deployment
        self.version = "3" if deployment == "cloud" else "2"
        self.jql = strip_order_by(jql or "")
        self.batch_size = batch_size
        self.auth_kind = auth_kind
        self._account: Account | None = None

    def path(self, rest: str) -> str:
        return f"/rest/api/{self.version}/{rest.lstrip('/')}"

    def get(self, rest: str, params: dict[str, Any] | None = None) -> Any:
        try:
            return self.client.get_json(self.path(rest), params)
        except HttpError as exc:
            raise explain(exc, self.deployment, self.auth_kind) from None

    def account(self, me: Record | None = None) -> Account:
        """The signed-in account (read once); `me` is the `/myself` document when the caller already has it."""
        if self._account is None:
            me = me if me is not None else self.get("myself")
            zone = me.get("timeZone")
            tz: ZoneInfo | None = None
            if zone:
                try:
                    tz = ZoneInfo(zone)
                except (ZoneInfoNotFoundError, ValueError):
                    log.warning("jira: unknown account time zone %r; widening date overlaps to +-14h", zone)
            name = str(me.get("emailAddress") or me.get("name") or me.get("displayName") or "")
            self._account = Account(name, zone, tz)
        return self._account

    def window_jql(self, extra: str | None, lower: datetime | None, upper: datetime) -> str:
        """The search JQL for [lower, upper) (on Data Center, up to a minute earlier: see `lower_literal`)."""
        clauses = [f"({c})" for c in (self.jql, extra) if c]
        if self.deployment == "cloud":
            if lower is not None:
                clauses.append(f"updated >= {epoch_ms(lower)}")
            clauses.append(f"updated < {epoch_ms(upper)}")
        else:
            tz = self.account().tz
            if lower is not None:
                clauses.append(f'updated >= "{lower_literal(lower, tz)[0]}"')
            clauses.append(f'updated < "{upper_literal(upper, tz)}"')
        return " AND ".join(clauses) + ORDER

    def search_page(self, jql: str, fields: list[str], expand: str, cont: str | int | None, size: int
                    ) -> tuple[list[Record], str | int | None]:
        """One search request; returns the issues and the continuation (None: the API says this was the last)."""
        params: dict[str, Any] = {"jql": jql, "fields": ",".join(fields), "maxResults": size}
        if expand:
            params["expand"] = expand
        if self.deployment == "cloud":
            if cont:
                params["nextPageToken"] = cont
            data = self.get("search/jql", params)
            token = data.get("nextPageToken")
            last = data.get("isLast") is True or not token
            return list(data.get("issues") or []), None if last else str(token)
        start = params["startAt"] = int(cont or 0)
        data = self.get("search", params)
        issues = list(data.get("issues") or [])
        total = int(data.get("total") or 0)
        if start + len(issues) >= total:
            return issues, None
        return issues, start + len(issues)

    def issue_ids(self, project: str) -> set[str]:
        """Every issue id of a project, ids only (the deletion census), paged to the API's end signal. A project
        this account cannot see lists nothing (the census's guard then refuses to delete)."""
        jql, cont = f'project = "{project}" ORDER BY id ASC', None
        ids: set[str] = set()
        while True:
            try:
                issues, more = self.search_page(jql, ["id"], "", cont, CENSUS_PAGE[self.deployment])
            except ConfigError:  # 400: the project does not exist or is not visible to this account
                return set()
            if not issues and more is not None and more == cont:
                raise SourceError(f"jira: the id listing of project {project} returned an empty page before its end",
                                  "retry the sync; if it persists, the instance's search index may need a re-index")
            ids.update(str(issue["id"]) for issue in issues)
            if more is None:
                return ids
            cont = more

    def issue_exists(self, issue_id: str) -> bool:
        """Whether the issue can still be read (a census candidate is deleted only when Jira says 404: an offset
        listing can skip an issue when another is deleted while it pages)."""
        try:
            self.client.get_json(self.path(f"issue/{issue_id}"), {"fields": "id"})
        except HttpError as exc:
            if exc.status == 404:
                return False
            raise explain(exc, self.deployment, self.auth_kind) from None
        return True

    def comments(self, issue: Record) -> list[Record]:
        """All comments of an issue: the embedded ones, or the comment endpoint's pages when more than 20."""
        embedded = (issue.get("fields") or {}).get("comment") or {}
        comments = list(embedded.get("comments") or [])
        total = int(embedded.get("total") or len(comments))
        if total <= len(comments):
            return comments
        start, fetched = 0, []
        while True:
            try:
                data = self.client.get_json(self.path(f"issue/{issue['id']}/comment"),
                                            {"startAt": start, "maxResults": COMMENT_PAGE})
            except HttpError as exc:
                if exc.status == 404:  # deleted or moved out of sight since the search: its next update tells
                    return comments
                raise explain(exc, self.deployment, self.auth_kind) from None
            page = list(data.get("comments") or [])
            fetched.extend(page)
            start += len(page)
            if not page or start >= int(data.get("total") or 0):
                break
        by_id = {str(c["id"]): c for c in [*comments, *fetched]}
        return list(by_id.values())

    def projects(self, keys: list[str] | None) -> list[Record]:
        if self.deployment == "data_center":
            return _only(list(self.get("project")), keys)
        rows, start = [], 0
        while True:
            data = self.get("project/search", {"startAt": start, "maxResults": 50})
            values = list(data.get("values") or [])
            rows.extend(values)
            start += len(values)
            if data.get("isLast", True) or not values:
                return _only(rows, keys)

    def users(self) -> Iterator[Record]:
        """Every user the account may see: Cloud's /users/search, Data Center's /user/search?username=. (a plain
        list each; an empty page is the end)."""
        rest, params = ("users/search", {}) if self.deployment == "cloud" else ("user/search", {"username": "."})
        start = 0
        while True:
            page = list(self.client.get_json(self.path(rest), {**params, "startAt": start, "maxResults": 1000}))
            if not page:
                return
            yield from page
            start += len(page)


def _epic_link(known: list[Record] | None) -> str | None:
    """The id of the custom field named "Epic Link" (Data Center; gone from Cloud since its 2023 parent change)."""
    return next((str(f["id"]) for f in known or [] if f.get("custom") and str(f.get("name", "")).lower() == EPIC_LINK
                 and f.get("id")), None)


def _only(rows: list[Record], keys: list[str] | None) -> list[Record]:
    if not keys:
        return rows
    wanted = {k.upper() for k in keys}
    return [r for r in rows if str(r.get("key", "")).upper() in wanted or str(r.get("id")) in wanted
            or str(r.get("name", "")).upper() in wanted]


def explain(exc: HttpError, deployment: str, auth_kind: str) -> UdcError:
    """A Jira failure as a message and a fix (401/403 auth, 400 JQL/project, 410 removed API, 429)."""
    status, headers = exc.status, {k.lower(): v for k, v in exc.headers.items()}
    body = exc.body or ""
    if status == 401:
        return SourceError(f"Jira refused the credentials (HTTP 401 on {_short(exc.url)})",
                           auth_hint(deployment, auth_kind))
    if status == 403 and "x-authentication-denied-reason" in headers:
        return SourceError(
            f"Jira locked the login behind a CAPTCHA ({headers['x-authentication-denied-reason'].split(';')[0]})",
            "too many failed logins: sign in once through the web UI to clear the CAPTCHA, then use a personal "
            "access token (auth type: bearer), which is never CAPTCHA-locked")
    if status == 400:
        missing = _NO_PROJECT.search(body)
        if missing:
            return ConfigError(
                f"Jira: project '{missing.group(1)}' in the JQL does not exist or this account cannot see it",
                "check the project key, and that the account has the Browse Projects permission on it")
        return ConfigError(f"Jira rejected the query: {source_message(body) or body[:300]}",
                           "fix the pipeline's jql (or the table's filter)")
    if status == 410:
        return SourceError("this Jira Cloud API was removed (HTTP 410)", "upgrade udc")
    if status == 429:
        return SourceError(f"Jira kept rate limiting (HTTP 429; Retry-After {headers.get('retry-after', '?')}s)",
                           "lower max_calls_per_minute, or sync outside busy hours")
    return exc


def auth_hint(deployment: str, auth_kind: str) -> str:
    if deployment == "cloud":
        if auth_kind == "bearer":
            return ("Jira Cloud REST takes basic auth with your email and an API token (auth type: basic, "
                    "username: <email>, password: env:JIRA_API_TOKEN), not a bearer token")
        return ("use your Atlassian account email as username and an API token (not the account password) "
                "as password; create one at id.atlassian.com → Security → API tokens (tokens can expire)")
    if auth_kind == "bearer":
        return ("the personal access token is invalid, expired or revoked: create a new one under "
                "Profile → Personal Access Tokens")
    return ("the username/password was refused; repeated failures trigger a CAPTCHA lockout: prefer a personal "
            "access token (auth type: bearer)")


def _short(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url).split("?")[0]


# ---------------------------------------------------------------------------------------------------------------
# Streams


@dataclass
class IssueQuery:
    """A window's search from a position, and what the client keeps of its answer: issues before the window's `end`
    whose (cursor, key) is after `after` (so the literals' minutes of overlap are dropped here)."""

    jql: str
    end: str
    after: tuple[str, str]
    empties: int = 0  # empty pages before the reported end, in a row


class IssueSearch(KeysetStream[IssueQuery, str | int]):
    """The keyset read the issue-based streams share: issues with `updated` in a window, in (updated, key) order."""

    api: JiraApi
    connector: str
    spec: TableSpec
    fields: list[str]
    expand = ""

    def __post_init__(self) -> None:
        self.dataset, self.batch_size = dataset_of(self.connector, self.name), self.api.batch_size

    def query(self, window: Window, after: Position | None) -> IssueQuery:
        jql = self.api.window_jql(self.spec.filter, parse_time(after.cursor) if after else None, window.end)
        return IssueQuery(jql, cursor_str(window.end), (after.cursor, after.pk) if after else ("", ""))

    def fetch(self, query: IssueQuery, continuation: str | int | None, limit: int) -> Batch[str | int]:
        issues, more = self.api.search_page(query.jql, self.fields, self.expand, continuation, limit)
        fresh: list[tuple[tuple[str, str], Record]] = []
        for issue in issues:
            updated = (issue.get("fields") or {}).get("updated")
            if not updated:
                raise SourceError("jira: search returned an issue without `updated`",
                                  "the account must be able to read the updated field")
            at = (cursor_str(updated), sort_key(issue["key"]))
            if at[0] < query.end and at > query.after:
                fresh.append((at, issue))
        if not issues and more is not None:
            # DC said there is more, yet the page is empty: issues left the result set. Run the query again.
            query.empties += 1
            if query.empties > 3:
                raise SourceError("jira: search keeps returning empty pages before its reported total",
                                  "retry the sync; if it persists, the instance's search index may need a re-index")
            return Batch([], 0)  # startAt 0 (no token on Cloud): the query's first page
        fresh.sort(key=lambda f: f[0])
        return Batch([issue for _, issue in fresh], more)

    def position_of(self, row: Record) -> Position:
        return Position(cursor_str(row["fields"]["updated"]), sort_key(row["key"]))


@dataclass
class IssueStream(IssueSearch):
    api: JiraApi
    connector: str
    fields: list[str]
    spec: TableSpec
    expand_changelog: bool = False
    epic_field: str | None = None  # the "Epic Link" custom field's id, when Jira has one and `parent` is read
    name: str = "issues"
    dataset: str = ""
    primary_key: str = "id"
    cursor_field: str = "updated"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.expand = "changelog" if self.expand_changelog else ""

    def page(self, rows: list[Record], position: Position) -> Page:
        return Page(records=[self.record(i) for i in rows], links={str(i["id"]): self.references(i) for i in rows},
                    position=position)

    def record(self, issue: Record) -> Record:
        fields = issue.get("fields") or {}
        out: Record = {"id": str(issue["id"]), "key": issue.get("key"), "self": issue.get("self"),
                       "updated": fields.get("updated"),
                       "project_key": (fields.get("project") or {}).get("key")}
        if "description" in fields:
            out["description_text"] = adf_text(fields.get("description")).strip()
        out["fields"] = fields
        if "changelog" in issue:
            out["changelog"] = issue["changelog"]
        return out

    def references(self, issue: Record) -> list[tuple[str, str, str]]:
        """The issue's own graph links, stored with (and replaced with) its record: its project, its parent (the
        sub-task's parent issue or the issue's epic; by key, resolved when read, from Data Center's Epic Link), and
        each issue link named from this side ("blocks" on the outward issue, "is blocked by" on the inward one), so
        a removed link leaves the graph when either issue is synced again."""
        fields = issue.get("fields") or {}
        refs: list[tuple[str, str, str]] = []
        project = fields.get("project")
        if isinstance(project, dict) and project.get("id"):
            refs.append(("in_project", dataset_of(self.connector, "projects"), str(project["id"])))
        parent, epic = fields.get("parent"), fields.get(self.epic_field) if self.epic_field else None
        if isinstance(parent, dict) and parent.get("id"):
            refs.append(("parent", self.dataset, str(parent["id"])))
        elif isinstance(epic, str) and epic:
            refs.append(("parent", f"{self.dataset}_key", epic))  # a `_key` end names a record by its key
        for link in fields.get("issuelinks") or []:
            link_type = link.get("type") or {}
            for side, rel in (("outwardIssue", link_type.get("outward")), ("inwardIssue", link_type.get("inward"))):
                other = link.get(side)
                if isinstance(other, dict) and other.get("id"):
                    refs.append((str(rel or link_type.get("name") or "links"), self.dataset, str(other["id"])))
        return refs


def link_edges(connector: str, records: list[Record]) -> list[Edge]:
    dataset = dataset_of(connector, "issues")
    return [Edge(dataset, rec["source_id"], rec["outward"] or rec["type"], dataset, rec["target_id"])
            for rec in records]


def link_records(issue: Record) -> list[Record]:
    """Each link of an issue, normalised to (outward side → inward side): both ends yield the same record."""
    out = []
    me = {"id": str(issue["id"]), "key": issue.get("key")}
    updated = (issue.get("fields") or {}).get("updated")
    for link in (issue.get("fields") or {}).get("issuelinks") or []:
        link_type = link.get("type") or {}
        if "outwardIssue" in link:
            source, target = me, link["outwardIssue"]
        elif "inwardIssue" in link:
            source, target = link["inwardIssue"], me
        else:
            continue
        out.append({"id": str(link["id"]), "type": link_type.get("name"), "outward": link_type.get("outward"),
                    "inward": link_type.get("inward"), "source_id": str(source["id"]), "source_key": source.get("key"),
                    "target_id": str(target["id"]), "target_key": target.get("key"), "updated": updated})
    return out


@dataclass
class CommentStream(IssueSearch):
    api: JiraApi
    connector: str
    spec: TableSpec
    name: str = "comments"
    dataset: str = ""
    primary_key: str = "id"
    cursor_field: str = "issue_updated"
    fields: list[str] = field(init=False, default_factory=lambda: ["updated", "comment"])
    parent_field: str = "issue_id"
    stored: dict[str, list[str]] = field(init=False, default_factory=dict)  # issue id → its stored comments' ids

    def remember(self, stored: list[tuple[str, str, str]]) -> None:
        self.stored = {}
        for pk, _, issue_id in stored:
            self.stored.setdefault(issue_id, []).append(pk)

    def page(self, rows: list[Record], position: Position) -> Page:
        records, issues = [], dataset_of(self.connector, "issues")
        links: dict[str, list[tuple[str, str, str]]] = {}
        tombstones: list[tuple[str, str]] = []
        for issue in rows:
            comments = self.api.comments(issue)
            now = {str(c["id"]) for c in comments}
            had = self.stored.pop(str(issue["id"]), [])
            if len(comments) >= int((issue["fields"].get("comment") or {}).get("total") or 0):  # read whole
                # a comment removed in Jira: gone at this version of its issue (a stale re-read loses to a newer copy)
                tombstones += [(pk, cursor_str(issue["fields"]["updated"])) for pk in had if pk not in now]
            for comment in comments:
                record = {"id": str(comment["id"]), "issue_id": str(issue["id"]), "issue_key": issue.get("key"),
                          "issue_updated": issue["fields"]["updated"], "author": comment.get("author"),
                          "update_author": comment.get("updateAuthor"), "created": comment.get("created"),
                          "updated": comment.get("updated"), "body": comment.get("body"),
                          "body_text": adf_text(comment.get("body")).strip(), "self": comment.get("self")}
                records.append(record)
                links[record["id"]] = [("comment_on", issues, record["issue_id"])]
        return Page(records=records, links=links, tombstones=tombstones, position=position)


@dataclass
class LinkStream(IssueSearch):
    """One record per link (the outward issue is the source), seen from either end; newest `updated` wins.
    Graph edges come from the issues table's own links; `graph` adds them here when issues are not synced."""

    api: JiraApi
    connector: str
    spec: TableSpec
    graph: bool = False
    name: str = "issue_links"
    dataset: str = ""
    primary_key: str = "id"
    cursor_field: str = "updated"
    fields: list[str] = field(init=False, default_factory=lambda: ["updated", "issuelinks"])

    def page(self, rows: list[Record], position: Position) -> Page:
        by_id: dict[str, Record] = {}
        for record in (r for issue in rows for r in link_records(issue)):
            if record["id"] not in by_id or self.cursor_of(by_id[record["id"]]) <= self.cursor_of(record):
                by_id[record["id"]] = record  # both ends in one page: one row, the newer sighting
        records = list(by_id.values())
        edges = link_edges(self.connector, records) if self.graph else []
        return Page(records=records, edges=edges, position=position)


@dataclass
class ProjectStream:
    """The projects the JQL names (all visible ones when it names none): a small snapshot each run, every record at
    `SNAPSHOT_CURSOR` (Jira gives a project no update time)."""

    api: JiraApi
    connector: str
    keys: list[str]
    name: str = "projects"
    dataset: str = ""
    primary_key: str = "id"
    cursor_field: str = ""

    def __post_init__(self) -> None:
        self.dataset = dataset_of(self.connector, "projects")

    def cursor_of(self, record: Record) -> str:
        return SNAPSHOT_CURSOR

    def read(self, window: Window, resume: Position | None) -> Iterator[Page]:
        rows = self.api.projects(self.keys or None)
        yield Page(records=[{**row, "id": str(row["id"])} for row in rows], position=None)



# ---------------------------------------------------------------------------------------------------------------
# Source


def client_for(name: str, connector: JiraConnector, pipeline: JiraPipeline, **kwargs: Any) -> HttpClient:
    return HttpClient.for_pipeline(name, connector.base_url.rstrip("/"), connector.auth, pipeline,
                                   verify_tls=connector.verify_tls, **kwargs)


def _auth_kind(connector: JiraConnector) -> str:
    return "bearer" if isinstance(connector.auth, BearerAuth) else "basic"


def build(config: Config, pipeline_name: str) -> JiraSource:
    pipeline = config.pipeline(pipeline_name)
    connector = config.connector(pipeline.connector)
    assert isinstance(connector, JiraConnector) and isinstance(pipeline, JiraPipeline)
    return JiraSource(pipeline.connector, connector, pipeline)


class JiraSource:
    def __init__(self, name: str, connector: JiraConnector, pipeline: JiraPipeline,
                 client: HttpClient | None = None) -> None:
        self.name, self.connector, self.pipeline = name, connector, pipeline
        self.client = client or client_for(name, connector, pipeline)
        self.api = JiraApi(self.client, connector.deployment, pipeline.jql or "", pipeline.batch_size,
                           _auth_kind(connector))
        self.notes: list[str] = []

    def issue_fields(self, spec: TableSpec) -> list[str]:
        wanted = list(spec.fields or self.pipeline.fields or DEFAULT_FIELDS)
        wanted = [f for f in wanted if f not in spec.exclude_fields]
        for required in ("updated", "project"):
            if required not in wanted:
                wanted.append(required)
        return wanted

    def streams(self) -> list[Stream]:
        """The requested tables, after checking credentials, the JQL, projects and field names against Jira."""
        specs = self.pipeline.synced_tables  # names checked by the config
        account = self.api.account()
        if account.tz is None and self.connector.deployment == "data_center":
            self.notes.append(f"{self.name}: the account's time zone is not readable from /myself; date bounds are "
                              "widened by the largest UTC offsets (more overlap, nothing lost)")
        self._validate_jql(specs)
        streams: list[Stream] = []
        for spec in specs:
            if spec.name == "issues":
                fields = self.issue_fields(spec)
                known = self._known_fields()
                self._check_fields(fields, known)
                epic = _epic_link(known) if "parent" in fields else None
                if known is None and "parent" in fields and self.connector.deployment == "data_center":
                    self.notes.append(f"{self.name}: Jira's field list (/field) is not readable, so its Epic Link "
                                      "field is unknown: issues are linked to their parents but not to their epics")
                if epic is not None and epic not in fields and epic not in spec.exclude_fields:
                    fields.append(epic)
                streams.append(IssueStream(self.api, self.name, fields, spec, self.pipeline.expand_changelog,
                                           epic))
            elif spec.name == "comments":
                streams.append(CommentStream(self.api, self.name, spec))
            elif spec.name == "issue_links":
                graph = not any(other.name == "issues" for other in specs)
                streams.append(LinkStream(self.api, self.name, spec, graph))
            else:
                streams.append(ProjectStream(self.api, self.name, projects_in(self.api.jql)))
        return streams

    def people(self) -> Iterator[Person]:
        """Jira's users as the redactor's directory; app and integration accounts are no people."""
        try:
            for user in self.api.users():
                yield Person(name=str(user.get("displayName") or ""), user_name=str(user.get("name") or ""),
                             email=str(user.get("emailAddress") or ""),
                             machine=user.get("accountType", "atlassian") not in ("atlassian", "customer"))
        except HttpError as exc:
            if exc.status not in (401, 403, 404):
                raise explain(exc, self.connector.deployment, self.api.auth_kind) from None
            raise DirectoryUnreadable(
                f"{self.name}: Jira's user search is not readable (HTTP {exc.status}), so redaction cannot learn "
                "its people; names are then found only in people fields and by stream 2",
                "grant the account the 'Browse users and groups' global permission") from None

    def _validate_jql(self, specs: list[TableSpec]) -> None:
        """One cheap search per distinct filter: a bad JQL or an invisible project fails before any data moves."""
        if (self.pipeline.jql or "") != self.api.jql:
            self.notes.append(f"{self.name}: the ORDER BY of the pipeline's jql is ignored (udc reads in "
                              "updated, key order)")
        filters = {spec.filter for spec in specs if spec.name != "projects"}
        for extra in filters:
            jql = self.api.window_jql(extra, None, datetime.now(UTC) + timedelta(days=1))
            self.api.search_page(jql, ["updated"], "", None, 1)

    def _known_fields(self) -> list[Record] | None:
        """Jira's field list (`/field`); None when it cannot be read (the checks that need it are then skipped)."""
        try:
            return list(self.client.get_json(self.api.path("field")))
        except HttpError:
            return None

    def _check_fields(self, fields: list[str], known: list[Record] | None) -> None:
        if known is None:
            return
        ids = {str(f.get("id")) for f in known} | {str(f.get("key")) for f in known if f.get("key")}
        names = {str(f.get("name", "")).lower(): str(f.get("id")) for f in known}
        for name in fields:
            if name in ids or name.startswith(("*", "-")):
                continue
            by_name = names.get(name.lower())
            hint = (f"use the field id '{by_name}'" if by_name else
                    f"did you mean '{g[0]}'?" if (g := difflib.get_close_matches(name, sorted(ids), n=1)) else
                    f"run `udc discover --connector {self.name} --table issues`")
            raise ConfigError(f"Jira field '{name}' does not exist (Jira silently returns nothing for unknown fields)",
                              hint)

    # -- the deletion census (udc.sync.census): search cannot show deleted issues, so their ids are counted

    census_field = "project_key"  # the stored issue's field naming its scope

    def census_dataset(self) -> str | None:
        """The issues dataset, when the census is on and issues are synced."""
        synced = any(spec.name == "issues" for spec in self.pipeline.synced_tables)
        return dataset_of(self.name, "issues") if synced and self.connector.deletion_census else None

    @property
    def census_every(self) -> timedelta:
        return self.connector.deletion_census

    def census_scopes(self) -> list[str]:
        """The project keys the pipeline's JQL names (every visible project when it names none); a named project
        this account can no longer see stays, as written, so its empty listing is noticed."""
        named = projects_in(self.api.jql)
        visible = self.api.projects(None)
        keys = {str(p.get(k, "")).upper(): str(p["key"]) for p in visible for k in ("key", "id", "name")}
        return [keys.get(name.upper(), name) for name in named] if named else [str(p["key"]) for p in visible]

    def census_ids(self, scope: str) -> set[str]:
        return self.api.issue_ids(scope)

    def still_exists(self, pk: str) -> bool:
        return self.api.issue_exists(pk)

    def census_children(self) -> tuple[str, str] | None:
        """The comments dataset and its field naming the issue: a deleted issue's comments go with it."""
        synced = any(spec.name == "comments" for spec in self.pipeline.synced_tables)
        return (dataset_of(self.name, "comments"), "issue_id") if synced else None

    @property
    def stats(self) -> CallStats:
        return self.client.stats

    def close(self) -> None:
        self.client.close()


# ---------------------------------------------------------------------------------------------------------------
# Discovery and diagnostics


def discover(name: str, connector: JiraConnector, pipeline: JiraPipeline, table: str | None
             ) -> dict[str, dict[str, str]]:
    client = client_for(name, connector, pipeline)
    try:
        api = JiraApi(client, connector.deployment, pipeline.jql or "", pipeline.batch_size, _auth_kind(connector))
        text, when, user = "string", "datetime", "user"
        tables: dict[str, dict[str, str]] = {
            "issues": {},
            "comments": {"id": text, "issue_id": text, "issue_key": text, "issue_updated": when, "author": user,
                         "update_author": user, "created": when, "updated": when, "body": "doc", "body_text": text,
                         "self": text},
            "issue_links": {"id": text, "type": "issuelinktype", "outward": text, "inward": text, "source_id": text,
                            "source_key": text, "target_id": text, "target_key": text, "updated": when,
                            "seen_on": when},
            "projects": {"id": text, "key": text, "name": text, "projectTypeKey": text, "self": text},
        }
        if table is not None and table not in tables:
            raise ConfigError(f"'{table}' is not a Jira table", f"use one of: {', '.join(tables)}")
        if table in (None, "issues"):  # a field's schema type: string, number, datetime, user, array, option...
            tables["issues"] = dict(sorted((str(f.get("id")), str((f.get("schema") or {}).get("type", "")))
                                           for f in api.get("field")))
        return {table: tables[table]} if table else tables
    finally:
        client.close()


def check(name: str, connector: JiraConnector, pipeline: JiraPipeline, client: HttpClient | None = None
          ) -> list[Finding]:
    """`udc check`: credentials (API token vs password on Cloud, PAT on DC, CAPTCHA lockout), the account's zone,
    each project the JQL names (missing or invisible? zero issues?), the JQL itself, and rate limiting."""
    own = client is None
    base = connector.base_url.rstrip("/")
    client = client or check_client(base, connector.auth, pipeline, name, verify_tls=connector.verify_tls)
    kind = _auth_kind(connector)
    api = JiraApi(client, connector.deployment, pipeline.jql or "", 1, kind)
    findings = [Finding("warn", title, detail, fix) for title, detail, fix in _credential_advice(connector)]
    try:
        myself = api.path("myself")
        try:
            me = client.get_json(myself)
        except HttpError as exc:
            findings.append(_auth_finding(exc, connector, f"GET {myself}") or
                            connection_findings(exc, request=f"GET {myself}", auth=connector.auth, url=base)[0])
            return findings
        account = api.account(me)
        findings.append(Finding("ok", "credentials", f"signed in as {account.name or '(unnamed account)'}"))
        if account.time_zone:
            findings.append(Finding("ok", "account time zone",
                                    f"{account.time_zone}: JQL dates are read in it; udc bounds queries with "
                                    + ("epoch milliseconds" if connector.deployment == "cloud" else
                                       "literals converted to it, with a one-minute overlap")))
        else:
            findings.append(Finding("warn", "account time zone", "/myself does not show the account's time zone",
                                    "udc widens its date overlap to the largest UTC offsets (more re-reads, no loss); "
                                    "set the profile's time zone to avoid it"))
        for project in projects_in(api.jql):
            findings.append(_check_project(api, project))
        findings.append(_check_jql(api))
    except UdcError as exc:
        findings.append(Finding("fail", "check", exc.message, exc.hint))
    finally:
        throttled = client.stats.faults.get("429", 0)
        if throttled:
            findings.append(Finding("warn", "rate limiting",
                                    f"Jira answered 429 {throttled} time(s) during the check; udc waited as its "
                                    "Retry-After header asked",
                                    "if syncs are slow or stop on 429, lower max_calls_per_minute or sync "
                                    "off-peak"))
        if own:
            client.close()
    return findings


def _credential_advice(connector: JiraConnector) -> list[tuple[str, str, str]]:
    auth = connector.auth
    advice = []
    if connector.deployment == "cloud" and isinstance(auth, BasicAuth):
        if "@" not in auth.username:
            advice.append(("credentials", f"username '{auth.username}' is not an email address",
                           "Jira Cloud basic auth takes the Atlassian account's email as username"))
        if not _looks_like_api_token(auth.password.get_secret_value()):
            advice.append(("credentials", "the password does not look like an Atlassian API token",
                           "Jira Cloud refuses account passwords over REST: create an API token at "
                           "id.atlassian.com → Security → API tokens and use it as the password"))
    if connector.deployment == "cloud" and isinstance(auth, BearerAuth):
        advice.append(("credentials", "bearer auth on Jira Cloud", auth_hint("cloud", "bearer")))
    if connector.deployment == "data_center" and isinstance(auth, BasicAuth):
        advice.append(("credentials", "basic auth with a password on Data Center",
                       "failed logins lead to a CAPTCHA lockout; prefer a personal access token (auth type: bearer)"))
    return advice


def _auth_finding(exc: HttpError, connector: JiraConnector, request: str) -> Finding | None:
    headers = {k.lower(): v for k, v in exc.headers.items()}
    kind = _auth_kind(connector)
    if exc.status == 401:
        if connector.deployment == "cloud":
            what = ("Jira Cloud refused the email/API token pair" if kind == "basic" else
                    "Jira Cloud does not take bearer tokens for REST")
        else:
            what = ("Jira Data Center refused the personal access token" if kind == "bearer" else
                    "Jira Data Center refused the username/password")
        return Finding("fail", "401 Unauthorized", f"{request} returned 401: {what}",
                       auth_hint(connector.deployment, kind))
    if exc.status == 403 and "x-authentication-denied-reason" in headers:
        reason = headers["x-authentication-denied-reason"].split(";")[0].strip()
        return Finding("fail", "CAPTCHA lockout", f"{request} returned 403 with X-Authentication-Denied-Reason: "
                                                  f"{reason}: too many failed logins",
                       "sign in once through the web UI to clear the CAPTCHA, then switch to a personal access "
                       "token (auth type: bearer), which is never CAPTCHA-locked")
    if exc.status == 429:
        retry = headers.get("retry-after", "?")
        return Finding("fail", "rate limited", f"{request} kept returning 429 (Retry-After {retry}s, "
                                               f"X-RateLimit-Remaining {headers.get('x-ratelimit-remaining', '?')})",
                       "Jira is throttling this account: wait, then lower max_calls_per_minute")
    return None


def _looks_like_api_token(secret: str) -> bool:
    """Atlassian API tokens: `ATATT…` (~190 chars) or the older 24-character form; passwords rarely look so."""
    return secret.startswith("ATATT") or bool(re.fullmatch(r"[A-Za-z0-9]{24}", secret))


def _check_project(api: JiraApi, project: str) -> Finding:
    title = f"project {project}"
    try:
        api.client.get_json(api.path(f"project/{project}"))
    except HttpError as exc:
        if exc.status == 404:
            return Finding("fail", title, f"project '{project}' named in the JQL does not exist or this account "
                                          "cannot see it", "check the key, and grant the account the Browse Projects "
                                                           "permission on it")
        raise explain(exc, api.deployment, api.auth_kind) from None
    try:
        issues, _ = api.search_page(f'project = "{project}"' + ORDER, ["updated"], "", None, 1)
    except UdcError as exc:
        return Finding("fail", title, exc.message, exc.hint)
    if not issues:
        return Finding("warn", title, f"zero records: project '{project}' has no issue this account can see",
                       "check issue-level security schemes and the account's Browse Projects permission")
    return Finding("ok", title, f"project '{project}' is visible and has issues")


def _check_jql(api: JiraApi) -> Finding:
    shown = api.jql or "(no jql: every issue the account can see)"
    try:
        jql = api.window_jql(None, None, datetime.now(UTC) + timedelta(days=1))
        issues, _ = api.search_page(jql, ["updated"], "", None, 1)
    except UdcError as exc:
        return Finding("fail", "jql", f"{shown}: {exc.message}", exc.hint)
    if not issues:
        return Finding("warn", "jql", f"zero records: {shown} matches no issue this account can see",
                       "check the filter, and the account's permissions on the projects it names")
    return Finding("ok", "jql", f"{shown} matches issues")
