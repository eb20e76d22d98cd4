"""Salesforce REST connector: OAuth 2.0 client credentials against the My Domain URL, any queryable object.

Each object is read with SOQL windows on the cursor field, ordered by `<cursor>, Id` and resumed with a compound
keyset (`(C > T OR (C = T AND Id > 'X')) AND C < E`), so equal timestamps — common after mass updates — never lose a
record at a page or run boundary. `queryAll` returns soft-deleted rows (`IsDeleted = true`), which become tombstones.
`nextRecordsUrl` is followed exactly as given; only `done` ends a window.

Quota care: `query_limit` caps the query requests of one run (a run that reaches it stops checkpointed and the next
continues); `Sforce-Limit-Info` is read on every response and the run stops cleanly before `max_api_share` of the
org's daily API requests is used, or when Salesforce answers 403 `REQUEST_LIMIT_EXCEEDED`.
"""

from __future__ import annotations

import difflib
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import orjson

from udc.config import ClientCredentialsAuth, Config, SalesforceConnector, SalesforcePipeline, TableSpec
from udc.config.salesforce import valid_identifier
from udc.errors import ConfigError, QuotaExhausted, SourceError
from udc.http.client import CallStats, HttpClient, HttpError
from udc.records import Page, Person, Position, Record, Window
from udc.sources.base import DirectoryUnreadable, Stream
from udc.sources.diagnostics import CHECK_TIMEOUT, Finding, connection_findings
from udc.sources.keyset import Batch, KeysetStream, dataset_of
from udc.timeutil import cursor_str, parse_time

log = logging.getLogger("udc.salesforce")

DEFAULT_CURSOR = "LastModifiedDate"
DEFAULT_RATE_LIMIT = 5  # requests per rate_limit_timeout_ms interval (product doc default)
MIN_BATCH, MAX_BATCH = 200, 2000  # Sforce-Query-Options batchSize bounds
KEY, DELETED = "Id", "IsDeleted"
TOKEN_PATH = "/services/oauth2/token"
GENERIC_LOGIN_HOSTS = ("login.salesforce.com", "test.salesforce.com")
# Compound and binary field types cannot be part of a default "standard fields" selection.
_UNSELECTABLE = frozenset({"address", "location", "base64", "complexvalue"})
_CURSOR_TYPES = frozenset({"datetime"})

_USAGE = re.compile(r"(?:^|[;,\s])api-usage=(\d+)/(\d+)")


# ------------------------------------------------------------------------------------------------ troubleshooting


@dataclass(frozen=True)
class Trouble:
    """One row of the product doc's Salesforce troubleshooting table."""

    key: str
    error: str  # the text Salesforce returns (or shows)
    cause: str
    fix: str


TROUBLESHOOTING = (
    Trouble("run_as_user", "no client credentials user enabled", "No Run-As user is set.",
            "Set the Run-As user in the Policies tab. See Assign the Run-As user. (Open the app > Policies > Edit > "
            "Client Credentials Flow > Run As, pick the user from the dropdown lookup, save, and allow 2 to 5 "
            "minutes for the change to propagate.)"),
    Trouble("execution_user", "Enter a valid execution user (on save)",
            "You typed the Run-As name but did not select it from the lookup.",
            "Re-select the user from the dropdown. See Assign the Run-As user."),
    Trouble("scope", "no valid scopes defined", "The app has no OAuth scopes.",
            "Add the api scope. See Enable OAuth and add the API scope. (Settings tab > OAuth Settings > Edit > "
            "move 'Manage user data via APIs (api)' to Selected, then Save.)"),
    Trouble("credentials", "invalid_client", "The Consumer Key or Consumer Secret is wrong.",
            "Re-copy both values and provide them again. See Retrieve the Consumer Key and Secret."),
    Trouble("domain", "request not supported on this domain",
            "The client-credentials request went to a generic login endpoint (login.salesforce.com or "
            "test.salesforce.com) instead of the org's My Domain.",
            "Use the My Domain URL, not login.salesforce.com: set instance_url to "
            "https://<my_domain>.my.salesforce.com (Setup > Quick Find > My Domain); the token endpoint is derived "
            "from it by appending /services/oauth2/token."),
)
_TROUBLE = {t.key: t for t in TROUBLESHOOTING}
_FLOW_DISABLED = Trouble(
    "flow", "client credentials flow is not enabled", "The Client Credentials flow is not enabled for the app.",
    "In the app's Settings tab, under OAuth Settings > Flow Enablement, select Enable Client Credentials Flow and "
    "Save. See Enable the Client Credentials flow.")


def trouble_for(error: str, description: str) -> Trouble | None:
    """The troubleshooting row for a token endpoint error (`error`, `error_description`)."""
    text = description.lower()
    for row in TROUBLESHOOTING:
        if row.key in ("run_as_user", "scope", "domain") and row.error in text:
            return row
    if error in ("invalid_client", "invalid_client_id") or "invalid client" in text or "client identifier" in text:
        return _TROUBLE["credentials"]
    if error == "unsupported_grant_type" or "client credentials flow" in text or "not enabled" in text:
        return _FLOW_DISABLED
    return None


class TokenRefused(SourceError):
    """The token endpoint said no; `trouble` is the matching troubleshooting row (None when none matches)."""

    def __init__(self, message: str, hint: str, trouble: Trouble | None) -> None:
        super().__init__(message, hint)
        self.trouble = trouble


def map_token_error(response: httpx.Response) -> SourceError | None:
    """Turn a failed token request into the doc's message and fix."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    error, description = str(body.get("error") or ""), str(body.get("error_description") or "")
    said = f"{error}: {description}" if description else error or f"HTTP {response.status_code}"
    row = trouble_for(error, description)
    if row is None:
        return TokenRefused(
            f"Salesforce refused the client-credentials token request ({said})",
            "check that the Run-As user is Active and API Enabled, the Consumer Key and Secret, and that "
            "instance_url is the org's My Domain URL", None)
    return TokenRefused(f"Salesforce refused the client-credentials token request ({said}): {row.cause}", row.fix,
                        row)


def generic_login_domain(url: str) -> bool:
    host = (urlsplit(url if "://" in url else f"https://{url}").hostname or "").lower()
    return host in GENERIC_LOGIN_HOSTS


def _refuse_generic(url: str, what: str) -> None:
    if generic_login_domain(url):
        row = _TROUBLE["domain"]
        raise ConfigError(
            f"{what} {url} is a generic Salesforce login endpoint: the Client Credentials flow must use your My "
            "Domain URL (Salesforce answers 'request not supported on this domain')", row.fix)


# ---------------------------------------------------------------------------------------------------- SOQL helpers


def soql_datetime(value: str | datetime) -> str:
    """An unquoted SOQL datetime literal in UTC (milliseconds only when there are any)."""
    value = parse_time(value)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"


def soql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def window_soql(sobject: str, fields: list[str], cursor: str, window: Window, position: Position | None,
                filter_: str | None = None) -> str:
    """`SELECT … FROM obj WHERE (C > T OR (C = T AND Id > 'X')) AND C < E ORDER BY C, Id`."""
    end = f"{cursor} < {soql_datetime(window.end)}"
    if position is None:
        where = end
    else:
        at = soql_datetime(position.cursor)
        if position.pk:
            where = f"({cursor} > {at} OR ({cursor} = {at} AND {KEY} > {soql_string(position.pk)})) AND {end}"
        else:
            where = f"{cursor} >= {at} AND {end}"
    if filter_:
        where += f" AND ({filter_})"
    return f"SELECT {', '.join(fields)} FROM {sobject} WHERE {where} ORDER BY {cursor}, {KEY}"


def parse_usage(headers: httpx.Headers | dict[str, str]) -> tuple[int, int] | None:
    value = headers.get("sforce-limit-info") or headers.get("Sforce-Limit-Info")
    match = _USAGE.search(value or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def _errors(exc: HttpError) -> tuple[str, str]:
    """(errorCode, message) of a Salesforce error body `[{"message", "errorCode"}]`."""
    try:
        body = orjson.loads(exc.body)
    except orjson.JSONDecodeError:
        return "", exc.body[:300]
    first = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else body
    if isinstance(first, dict):
        return str(first.get("errorCode") or ""), str(first.get("message") or "").strip()
    return "", exc.body[:300]


def _flatten(row: dict[str, Any], path: str) -> Any:
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


# ------------------------------------------------------------------------------------------------------- the source


@dataclass
class ObjectSchema:
    name: str
    custom: bool
    fields: dict[str, dict[str, Any]]  # lower-case name → describe entry

    def field(self, name: str) -> dict[str, Any] | None:
        return self.fields.get(name.lower())

    def relationship(self, name: str) -> dict[str, Any] | None:
        lower = name.lower()
        return next((f for f in self.fields.values() if (f.get("relationshipName") or "").lower() == lower), None)

    def standard_fields(self) -> list[str]:
        return [f["name"] for f in self.fields.values() if not f.get("custom") and f.get("type") not in _UNSELECTABLE]


class SalesforceSource:
    """One pipeline's objects on one org. Shares the query budget and quota watch across its streams."""

    def __init__(self, name: str, connector: SalesforceConnector, pipeline: SalesforcePipeline) -> None:
        self.name, self.connector = name, connector
        _refuse_generic(connector.instance_url, "instance_url")
        assert isinstance(connector.auth, ClientCredentialsAuth)  # the config admits no other
        base = connector.instance_url.rstrip("/")
        token_url = connector.auth.token_url or base + TOKEN_PATH
        _refuse_generic(token_url, "token_url")
        self.token_url = token_url
        if pipeline.rate_limit is None:
            pipeline = pipeline.model_copy(update={"rate_limit": DEFAULT_RATE_LIMIT})
        self.pipeline = pipeline
        self.api = f"/services/data/v{connector.api_version.lstrip('vV')}"
        self.batch = min(MAX_BATCH, max(MIN_BATCH, pipeline.batch_size))
        self.cursor = pipeline.cursor_field or DEFAULT_CURSOR
        self.client = HttpClient.for_pipeline(name, base, connector.auth, pipeline, token_url=token_url,
                                              verify_tls=connector.verify_tls, map_token_error=map_token_error,
                                              observe=self._observe)
        self.notes: list[str] = []
        self.queries = 0  # query requests made by this run (initial queries and nextRecordsUrl pages)
        self.usage: tuple[int, int] | None = None  # (used, max) daily API requests, from Sforce-Limit-Info
        self._lock = threading.Lock()
        self._schemas: dict[str, ObjectSchema] = {}
        self._objects: list[str] | None = None

    # -------------------------------------------------------------------------------------------- requests
    def _observe(self, response: httpx.Response) -> None:
        usage = parse_usage(response.headers)
        if usage:
            with self._lock:
                self.usage = usage

    def _guard_quota(self) -> None:
        with self._lock:
            usage = self.usage
        if usage is None or not usage[1]:
            return
        used, limit = usage
        share = self.pipeline.max_api_share
        if used + 1 > share * limit:
            raise QuotaExhausted(
                f"{self.name}: stopped before using more than {share:.0%} of the org's daily API requests "
                f"(Sforce-Limit-Info api-usage={used}/{limit}); progress is saved and the next run continues",
                "run again after Salesforce's rolling 24-hour window frees requests, or raise max_api_share "
                "(0 < share <= 1) if udc may use more of the org's quota")

    def _take_query(self, sobject: str) -> None:
        with self._lock:
            if self.queries >= self.pipeline.query_limit:
                raise QuotaExhausted(
                    f"{self.name}: query_limit of {self.pipeline.query_limit} query requests for this run reached "
                    f"while reading {sobject}; progress is saved and the next run continues from there",
                    "raise query_limit to read more per run, or run more often")
            self.queries += 1

    def _get(self, path: str, params: dict[str, Any] | None = None, *, query_of: str | None = None) -> Any:
        """Every request of this connector: query_limit and max_api_share first, then the shared client
        (HttpError on failure)."""
        if query_of is not None:
            self._take_query(query_of)
        self._guard_quota()
        headers = {"Sforce-Query-Options": f"batchSize={self.batch}"} if query_of is not None else None
        return self.client.get_json(path, params, headers)

    def get_json(self, path: str, params: dict[str, Any] | None = None, *, query_of: str | None = None) -> Any:
        """A GET under the quota rules; Salesforce errors become SourceErrors with a fix."""
        try:
            return self._get(path, params, query_of=query_of)
        except HttpError as exc:
            raise self._error(exc, query_of) from None

    def _error(self, exc: HttpError, sobject: str | None) -> SourceError:
        code, message = _errors(exc)
        what = f"{self.name}{'/' + sobject if sobject else ''}"
        if exc.status == 403 and code == "REQUEST_LIMIT_EXCEEDED":
            usage = f" (api-usage={self.usage[0]}/{self.usage[1]})" if self.usage else ""
            return QuotaExhausted(
                f"{what}: Salesforce's daily API request limit is used up (REQUEST_LIMIT_EXCEEDED{usage}); "
                "progress is saved and the next run continues",
                "wait for the org's rolling 24-hour window to free requests; lower max_api_share so udc stops "
                "earlier, or ask Salesforce for a higher API limit")
        if exc.status == 401:
            return SourceError(
                f"{what}: Salesforce rejected the session even with a fresh token ({code or 'HTTP 401'}: {message})",
                "check that the Run-As user is Active and API Enabled, and that the app's OAuth policies allow it")
        if code in ("INVALID_FIELD", "MALFORMED_QUERY", "INVALID_TYPE", "INVALID_QUERY_FILTER_OPERATOR"):
            return SourceError(f"{what}: Salesforce rejected the query ({code}):{_one_line(message)}",
                               f"check the object, fields, cursor_field and filter names; `udc discover --connector "
                               f"{self.name}{' --table ' + sobject if sobject else ''}` lists them")
        if exc.status == 403:
            return SourceError(f"{what}: Salesforce refused the request ({code or 'HTTP 403'}: {message})",
                               "give the Run-As user the API Enabled permission and read access to the object")
        if code:
            return SourceError(f"{what}: {code}: {_one_line(message)}", exc.hint)
        return exc

    # ---------------------------------------------------------------------------------------------- schema
    def describe(self, sobject: str) -> ObjectSchema:
        key = sobject.lower()
        if key not in self._schemas:
            try:
                body = self._get(f"{self.api}/sobjects/{quote(sobject)}/describe")
            except HttpError as exc:
                if exc.status == 404:
                    self._check_version()
                    raise self._unknown_object(sobject) from None
                raise self._error(exc, sobject) from None
            fields = {f["name"].lower(): f for f in body.get("fields", [])}
            self._schemas[key] = ObjectSchema(body["name"], bool(body.get("custom")), fields)
        return self._schemas[key]

    def objects(self) -> list[str]:
        if self._objects is None:
            try:
                body = self.get_json(f"{self.api}/sobjects")
            except SourceError:
                return []
            self._objects = sorted(o["name"] for o in body.get("sobjects", []) if o.get("queryable", True))
        return self._objects

    def _check_version(self) -> None:
        """A 404 on describe may mean the API version does not exist on this org rather than the object."""
        try:
            versions = self._get("/services/data/")
        except HttpError:
            return
        known = [str(v.get("version")) for v in versions if isinstance(v, dict)] if isinstance(versions, list) else []
        if known and self.api.rsplit("/v", 1)[-1] not in known:
            raise ConfigError(f"{self.name}: API version {self.api.rsplit('/', 1)[-1]} is not available on "
                              f"{self.connector.instance_url} (it offers {known[0]} to {known[-1]})",
                              f"set api_version to one of the offered versions, e.g. {known[-1]}")

    def _unknown_object(self, sobject: str) -> ConfigError:
        similar = difflib.get_close_matches(sobject, self.objects(), n=3, cutoff=0.6)
        custom = "" if sobject.endswith("__c") or similar else "; custom objects end in __c"
        guess = f"did you mean {', '.join(similar)}?" if similar else f"use the exact API name{custom}"
        return ConfigError(
            f"Salesforce object '{sobject}' does not exist on {self.connector.instance_url}, or the Run-As user "
            "cannot see it (describe answered 404)",
            f"{guess}; `udc discover --connector {self.name}` lists the objects")

    def resolve_field(self, schema: ObjectSchema, path: str) -> tuple[str, dict[str, Any]]:
        """The canonical spelling of a field path and its describe entry; ConfigError when it does not exist."""
        parts, canonical, current = path.split("."), [], schema
        for depth, part in enumerate(parts):
            if depth == len(parts) - 1:
                entry = current.field(part)
                if entry is None:
                    guess = difflib.get_close_matches(part, [f["name"] for f in current.fields.values()], n=1)
                    hint = f"did you mean '{guess[0]}'?" if guess else (
                        f"custom fields end in __c; `udc discover --connector {self.name} --table {current.name}` "
                        "lists the fields")
                    raise ConfigError(f"{schema.name}: field '{path}' does not exist: '{part}' is not a field of "
                                      f"{current.name}", hint)
                canonical.append(entry["name"])
                return ".".join(canonical), entry
            rel = current.relationship(part)
            if rel is None or not rel.get("referenceTo"):
                raise ConfigError(f"{schema.name}: '{path}' follows '{part}', which is not a relationship of "
                                  f"{current.name}", "use the relationship name (Account.Name, Owner.Email, "
                                  "Custom__r.Field__c), not the id field")
            canonical.append(rel["relationshipName"])
            current = self.describe(rel["referenceTo"][0])
        raise AssertionError("unreachable")

    # --------------------------------------------------------------------------------------------- streams
    def streams(self) -> list[Stream]:
        """One stream per object, after checking names against Salesforce's rules and each object's describe."""
        return [self._stream(spec) for spec in self.pipeline.tables]  # names checked by the config

    def _stream(self, spec: TableSpec) -> ObjectStream:
        schema = self.describe(spec.name)
        cursor = schema.field(self.cursor)
        if cursor is None or cursor.get("type") not in _CURSOR_TYPES or cursor.get("filterable") is False:
            found = f"a {cursor.get('type')} field" if cursor else "not a field of it"
            raise ConfigError(f"{schema.name}: cursor_field '{self.cursor}' cannot track progress ({found})",
                              "set cursor_field to a filterable datetime field: LastModifiedDate (default) or "
                              "SystemModstamp")
        excluded = {self.resolve_field(schema, p)[0].lower() for p in spec.exclude_fields}
        chosen = [self.resolve_field(schema, p)[0] for p in spec.fields or []]
        wanted = chosen or schema.standard_fields()
        wanted = list(dict.fromkeys(f for f in wanted if f.lower() not in excluded))
        stored = list(dict.fromkeys([KEY, cursor["name"], *wanted]))  # the keyset needs Id and the cursor
        query = list(stored)
        has_deleted = schema.field(DELETED) is not None
        if has_deleted and DELETED not in query:
            query.append(DELETED)
        if not has_deleted:
            self.notes.append(f"{schema.name} has no IsDeleted field: deletions cannot be captured")
        return ObjectStream(self, schema.name, dataset_of(self.name, schema.name), cursor["name"], query, stored,
                            spec.filter, has_deleted)

    def people(self) -> Iterator[Person]:
        """User and Contact as the redactor's directory (two queries, their nextRecordsUrl followed to `done`).
        Automated-process and integration users are no people."""
        for sobject, fields in DIRECTORY_QUERIES:
            try:
                body = self.get_json(f"{self.api}/query", {"q": f"SELECT {fields} FROM {sobject}"}, query_of=sobject)
                while True:
                    for row in body.get("records") or []:
                        phones = tuple(str(row[f]) for f in ("Phone", "MobilePhone") if row.get(f))
                        yield Person(name=str(row.get("Name") or ""), first=str(row.get("FirstName") or ""),
                                     last=str(row.get("LastName") or ""), user_name=str(row.get("Username") or ""),
                                     email=str(row.get("Email") or ""), phones=phones,
                                     machine=str(row.get("UserType") or "Standard") in MACHINE_USER_TYPES)
                    if body.get("done", True) or not body.get("nextRecordsUrl"):
                        break
                    body = self.get_json(str(body["nextRecordsUrl"]), query_of=sobject)
            except SourceError as exc:
                if not any(code in exc.message for code in UNREADABLE):
                    raise
                raise DirectoryUnreadable(
                    f"{self.name}: {sobject} is not readable, so redaction cannot learn the org's people from it",
                    f"give the integration user read access to {sobject} (Name, Email, Phone)") from None

    @property
    def stats(self) -> CallStats:
        return self.client.stats

    def close(self) -> None:
        self.client.close()


@dataclass
class ObjectStream(KeysetStream[str, str]):
    """One Salesforce object as records in (cursor, Id) order; soft-deleted rows arrive as tombstones. A window is one
    SOQL query whose `nextRecordsUrl` is followed to `done`; only an expired cursor re-queries it from the keyset."""

    source: SalesforceSource
    name: str
    dataset: str
    cursor_field: str
    query_fields: list[str]
    stored_fields: list[str]
    filter: str | None = None
    tombstones: bool = True
    primary_key: str = KEY
    restarts: int = 0
    restart_after_page = False

    def __post_init__(self) -> None:
        self.batch_size = self.source.batch

    def query(self, window: Window, after: Position | None) -> str:
        return window_soql(self.name, self.query_fields, self.cursor_field, window, after, self.filter)

    def fetch(self, query: str, continuation: str | None, limit: int) -> Batch[str]:
        # `limit` is not used: the source's Sforce-Query-Options batchSize sizes each page
        endpoint = f"{self.source.api}/{'queryAll' if self.tombstones else 'query'}"
        try:
            body = self.source.get_json(continuation or endpoint, None if continuation else {"q": query},
                                        query_of=self.name)
        except SourceError as exc:
            if "INVALID_QUERY_LOCATOR" not in exc.message or self.restarts >= 3:
                raise
            self.restarts += 1  # the server-side cursor expired: query again from the keyset
            log.warning("%s: query cursor expired; re-querying from the last stored position", self.dataset)
            return Batch([], None, restart=True)
        done = body.get("done", True) or not body.get("nextRecordsUrl")
        return Batch(body.get("records") or [], None if done else str(body["nextRecordsUrl"]))

    def position_of(self, row: dict[str, Any]) -> Position:
        return Position(cursor_str(row[self.cursor_field]), str(row[KEY]))

    def page(self, rows: list[dict[str, Any]], position: Position) -> Page:
        records: list[Record] = []
        tombstones: list[tuple[str, str]] = []
        for row in rows:
            if row.get(DELETED) is True:
                tombstones.append((str(row[KEY]), cursor_str(row[self.cursor_field])))
                continue
            records.append({path: _flatten(row, path) for path in self.stored_fields})
        return Page(records=records, tombstones=tombstones, position=position)


DIRECTORY_QUERIES = (("User", "Id, Name, FirstName, LastName, Username, Email, UserType"),
                     ("Contact", "Id, Name, FirstName, LastName, Email, Phone, MobilePhone"))
UNREADABLE = ("INSUFFICIENT_ACCESS", "INVALID_TYPE", "INVALID_FIELD", "refused the request")
MACHINE_USER_TYPES = frozenset({"AutomatedProcess", "CloudIntegrationUser", "CsnOnly", "LicenseManager", "SelfService"})


def _one_line(message: str) -> str:
    lines = [line for line in message.splitlines() if line.strip()]
    return " " + (lines[-1] if lines else message)


def build(config: Config, pipeline_name: str) -> SalesforceSource:
    pipeline = config.pipeline(pipeline_name)
    connector = config.connector(pipeline.connector)
    assert isinstance(connector, SalesforceConnector) and isinstance(pipeline, SalesforcePipeline)
    return SalesforceSource(pipeline.connector, connector, pipeline)


def discover(name: str, connector: SalesforceConnector, pipeline: SalesforcePipeline, table: str | None
             ) -> dict[str, dict[str, str]]:
    """Queryable objects, or one object's fields (standard and custom) and their types from its describe."""
    source = SalesforceSource(name, connector, pipeline)
    try:
        if table is not None:
            if not valid_identifier(table):
                raise ConfigError(f"'{table}' is not a valid Salesforce object API name", "use the exact API name")
            schema = source.describe(table)
            return {schema.name: {f["name"]: str(f.get("type", "")) for f in schema.fields.values()}}
        objects = source.objects()
        if not objects:
            raise SourceError(f"{name}: could not list the org's objects", "check the connection with `udc check`")
        return {o: {} for o in objects}
    finally:
        source.close()


# --------------------------------------------------------------------------------------------------- diagnostics


_TITLES = {"run_as_user": "Run-As user", "execution_user": "Run-As user picked from the lookup",
           "scope": "api scope", "credentials": "Consumer Key and Secret", "domain": "My Domain URL",
           "flow": "Client Credentials flow"}


def _title(row: Trouble) -> str:
    return f"{_TITLES[row.key]} ({row.error})"


def check(name: str, connector: SalesforceConnector, pipeline: SalesforcePipeline) -> list[Finding]:
    """`udc check`: each row of the doc's troubleshooting table, the daily quota, then each object: its describe,
    and whether the Run-As user can see any of its rows ("authenticated but zero records")."""
    quick = pipeline.model_copy(update={"max_retries": min(pipeline.max_retries, 1),
                                        "request_timeout": min(pipeline.request_timeout, CHECK_TIMEOUT)})
    try:
        source = SalesforceSource(name, connector, quick)
    except ConfigError as exc:
        return [Finding("fail", _title(_TROUBLE["domain"]) if "My Domain" in exc.message else "configuration",
                        exc.message, exc.hint)]
    findings: list[Finding] = []
    try:
        try:
            limits = source.get_json(f"{source.api}/limits")
        except TokenRefused as exc:
            failed = exc.trouble
            for row in TROUBLESHOOTING:
                if row is failed:
                    findings.append(Finding("fail", _title(row), exc.message, row.fix))
                else:
                    findings.append(Finding("skip", _title(row), "not checked: the token request failed first"))
            if failed is None or failed not in TROUBLESHOOTING:
                title = _title(failed) if failed else "token request"
                findings.insert(0, Finding("fail", title, exc.message, exc.hint))
            return findings
        except (HttpError, SourceError) as exc:
            request = f"GET {source.api}/limits"
            return connection_findings(exc, request=request, auth=connector.auth, url=connector.instance_url)
        seen = {"run_as_user": "a Run-As user is set: the token request succeeded",
                "execution_user": "the Run-As user resolves to a real user",
                "scope": "the app grants the api scope",
                "credentials": "the Consumer Key and Secret were accepted",
                "domain": f"the token endpoint {source.token_url} is the org's My Domain"}
        findings += [Finding("ok", _title(row), seen[row.key]) for row in TROUBLESHOOTING]
        daily = limits.get("DailyApiRequests", {}) if isinstance(limits, dict) else {}
        if daily.get("Max"):
            used = int(daily["Max"]) - int(daily.get("Remaining", 0))
            share = used / int(daily["Max"])
            warn = share >= pipeline.max_api_share
            findings.append(Finding(
                "warn" if warn else "ok", "daily API quota",
                f"{used} of {daily['Max']} daily API requests used ({share:.0%}); syncs stop at "
                f"{pipeline.max_api_share:.0%} (max_api_share)",
                "wait for Salesforce's rolling 24-hour window to free requests, or raise max_api_share" if warn
                else ""))
        for spec in pipeline.tables:
            findings.append(_check_object(source, spec))
    finally:
        source.close()
    return findings


def _check_object(source: SalesforceSource, spec: TableSpec) -> Finding:
    title = f"object {spec.name}"
    try:
        stream = source._stream(spec)
        body = source.get_json(f"{source.api}/query",
                               {"q": f"SELECT {KEY} FROM {stream.name} LIMIT 1"}, query_of=stream.name)
    except (ConfigError, SourceError) as exc:
        return Finding("fail", title, exc.message, exc.hint)
    if not body.get("records"):
        return Finding(
            "fail", title,
            f"authenticated but zero records: the Run-As user cannot see any {stream.name} rows (or the object is "
            "empty)",
            f"give the Run-As user read access to {stream.name}: object Read permission in its profile or a "
            "permission set, and sharing (organization-wide default, sharing rules, or View All) so its rows are "
            "visible; then re-test the connection")
    return Finding("ok", title, f"readable: {len(stream.stored_fields)} fields, cursor {stream.cursor_field}")
