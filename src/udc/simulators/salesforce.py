"""A local Salesforce REST API: client-credentials tokens, describe, SOQL query/queryAll with cursors, quotas.

Behaviour follows docs/source-apis.md (Salesforce section):

* `POST /services/oauth2/token` (form-encoded `grant_type=client_credentials`), with every documented token error
  selectable by configuration (`run_as_user=None`, `scopes` without `api`, wrong secret or key, `generic_login_domain`).
  Success carries no `refresh_token` and no `expires_in`; an expired or revoked session answers
  401 `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`.
* `GET /services/data/vXX.X/sobjects[/{Object}/describe]`, `/limits`, `/query?q=` and `/queryAll?q=` with a SOQL
  subset (SELECT fields and relationship paths FROM object WHERE comparisons combined with AND/OR/NOT and parentheses,
  ORDER BY, LIMIT, OFFSET), `nextRecordsUrl` paging over a snapshot, `Sforce-Query-Options: batchSize=N`.
* `Sforce-Limit-Info: api-usage=N/M` on every data response and a daily quota (403 `REQUEST_LIMIT_EXCEEDED`).
* Row visibility for the Run-As user: objects in `hidden_objects` return zero rows although records exist.

Tests drive it through the mutation API (`insert`, `update`, `delete`, `undelete`, `touch_system`) with a settable
clock, and read `requests` (every request, in order) to prove what the connector sent.
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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from udc.simulators.base import Request, Response, SimServer

DEFAULT_CLIENT_ID = "3MVG9sim.udc.salesforce.consumer.key"
DEFAULT_CLIENT_SECRET = "sim-consumer-secret-0123456789ABCDEF"
ORG_ID = "00D5g000004SimORG"
RUN_AS_USER_ID = "0055g00000AbCdEAAZ"
API_VERSIONS = tuple(f"{v}.0" for v in range(31, 63))
DEFAULT_BATCH, MIN_BATCH, MAX_BATCH = 2000, 200, 2000
DATA_START = datetime(2024, 1, 1, tzinfo=UTC)
DATA_END = datetime(2025, 6, 30, tzinfo=UTC)

_PATH = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")
_QUERY_PATH = re.compile(r"^/(query|queryAll)(?:/([A-Za-z0-9]+)-(\d+))?/?$")
_DESCRIBE_PATH = re.compile(r"^/sobjects/([^/]+)/describe/?$")


# ----------------------------------------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str  # id, string, textarea, email, phone, picklist, datetime, date, boolean, reference, double, int, url
    custom: bool = False
    label: str = ""
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    length: int = 255
    nillable: bool = True

    @property
    def filterable(self) -> bool:
        return self.type != "textarea" or self.length <= 255

    @property
    def sortable(self) -> bool:
        return self.filterable

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label or _label(self.name),
            "type": self.type,
            "custom": self.custom,
            "length": self.length if self.type in ("string", "textarea", "email", "phone", "picklist", "url") else 0,
            "nillable": self.nillable,
            "filterable": self.filterable,
            "sortable": self.sortable,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "calculated": False,
            "updateable": self.type != "id" and self.name not in _SYSTEM_FIELDS,
        }


@dataclass
class ObjectDef:
    name: str
    key_prefix: str
    fields: list[FieldDef]
    label: str = ""
    custom: bool = False
    by_lower: dict[str, FieldDef] = field(init=False)

    def __post_init__(self) -> None:
        self.by_lower = {f.name.lower(): f for f in self.fields}

    def field(self, name: str) -> FieldDef | None:
        return self.by_lower.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        lower = name.lower()
        return next((f for f in self.fields if f.relationship_name and f.relationship_name.lower() == lower), None)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label or _label(self.name),
            "labelPlural": (self.label or _label(self.name)) + "s",
            "custom": self.custom,
            "keyPrefix": self.key_prefix,
            "queryable": True,
            "retrieveable": True,
            "replicateable": True,
            "deletable": True,
            "fields": [f.describe() for f in self.fields],
            "urls": {"describe": f"/services/data/v{{version}}/sobjects/{self.name}/describe"},
        }


_SYSTEM_FIELDS = ("Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById",
                  "SystemModstamp")


def _label(name: str) -> str:
    base = name.removesuffix("__c")
    if "__" in base:
        base = base.split("__", 1)[1]
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", base).replace("_", " ")


def _system_fields(owner: bool = True) -> list[FieldDef]:
    fields = [
        FieldDef("Id", "id", nillable=False, length=18),
        FieldDef("IsDeleted", "boolean", nillable=False),
    ]
    if owner:
        fields.append(FieldDef("OwnerId", "reference", reference_to=("User",), relationship_name="Owner"))
    fields += [
        FieldDef("CreatedDate", "datetime", nillable=False),
        FieldDef("CreatedById", "reference", reference_to=("User",), relationship_name="CreatedBy"),
        FieldDef("LastModifiedDate", "datetime", nillable=False),
        FieldDef("LastModifiedById", "reference", reference_to=("User",), relationship_name="LastModifiedBy"),
        FieldDef("SystemModstamp", "datetime", nillable=False),
    ]
    return fields


def _schema() -> dict[str, ObjectDef]:
    S = FieldDef  # noqa: N806

    def C(name: str, type_: str, **kw: Any) -> FieldDef:  # noqa: N802 - a custom field
        return FieldDef(name, type_, custom=True, **kw)

    objects = [
        ObjectDef("User", "005", [
            S("Id", "id", nillable=False, length=18), S("Username", "string"), S("Name", "string"),
            S("FirstName", "string"), S("LastName", "string"), S("Email", "email"), S("IsActive", "boolean"),
            S("Title", "string"), S("UserType", "picklist"), S("CreatedDate", "datetime", nillable=False),
            S("LastModifiedDate", "datetime", nillable=False), S("SystemModstamp", "datetime", nillable=False),
        ]),
        ObjectDef("Account", "001", [
            *_system_fields(), S("Name", "string"), S("Type", "picklist"), S("Industry", "picklist"),
            S("Phone", "phone"), S("Website", "url"), S("BillingCity", "string"), S("BillingCountry", "string"),
            S("NumberOfEmployees", "int"), S("AnnualRevenue", "currency"),
            S("Description", "textarea", length=32000), C("Tier__c", "picklist"),
        ]),
        ObjectDef("Contact", "003", [
            *_system_fields(),
            S("AccountId", "reference", reference_to=("Account",), relationship_name="Account"),
            S("FirstName", "string"), S("LastName", "string"), S("Name", "string"), S("Email", "email"),
            S("Phone", "phone"), S("MobilePhone", "phone"), S("Title", "string"), S("Department", "string"),
            S("MailingCity", "string"), C("Preferred_Channel__c", "picklist"),
        ]),
        ObjectDef("Case", "500", [
            *_system_fields(), S("CaseNumber", "string", length=30), S("Subject", "string"),
            S("Description", "textarea", length=32000), S("Status", "picklist"), S("Priority", "picklist"),
            S("Origin", "picklist"), S("Type", "picklist"), S("Reason", "picklist"),
            S("SuppliedName", "string", length=80), S("SuppliedEmail", "email"),
            S("SuppliedPhone", "string", length=40),
            S("SuppliedCompany", "string", length=80),
            S("AccountId", "reference", reference_to=("Account",), relationship_name="Account"),
            S("ContactId", "reference", reference_to=("Contact",), relationship_name="Contact"),
            S("IsClosed", "boolean"), S("ClosedDate", "datetime"), S("IsEscalated", "boolean"),
            C("Escalation_Notes__c", "textarea", length=32768), C("acme__Severity__c", "picklist"),
        ]),
        ObjectDef("Opportunity", "006", [
            *_system_fields(), S("Name", "string"), S("StageName", "picklist"), S("Amount", "currency"),
            S("CloseDate", "date"), S("AccountId", "reference", reference_to=("Account",), relationship_name="Account"),
        ]),
        ObjectDef("Incident_Review__c", "a0B", custom=True, label="Incident Review", fields=[
            *_system_fields(), S("Name", "string", length=80),
            C("Case__c", "reference", reference_to=("Case",), relationship_name="Case__r"),
            C("Severity__c", "picklist"), C("Root_Cause__c", "textarea", length=131072),
            C("Action_Items__c", "textarea", length=32768), C("Review_Date__c", "date"),
            C("Reviewer_Email__c", "email"), C("Customer_Impact_Minutes__c", "double"),
        ]),
        ObjectDef("acme__Escalation__c", "a1E", custom=True, label="Escalation", fields=[
            *_system_fields(), S("Name", "string", length=80),
            C("acme__Case__c", "reference", reference_to=("Case",), relationship_name="acme__Case__r"),
            C("acme__Level__c", "picklist"), C("acme__Notes__c", "textarea", length=32768),
            C("acme__Escalated_At__c", "datetime"),
        ]),
    ]
    return {o.name: o for o in objects}


# ------------------------------------------------------------------------------------------------------------ values


def sf_datetime(value: datetime) -> str:
    """Salesforce's response format: `2020-10-22T21:03:23.000+0000`."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def _ms(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)


def _checksum(id15: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    suffix = ""
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += alphabet[bits]
    return suffix


def make_id(prefix: str, n: int) -> str:
    """An 18-character Salesforce id. The varying part is decimal, so string order is creation order."""
    id15 = f"{prefix}5g00000{n:05d}"
    return id15 + _checksum(id15)


_ID_RE = re.compile(r"^[a-zA-Z0-9]{15}([A-Z0-5]{3})?$")


# ------------------------------------------------------------------------------------------------------------- SOQL


class SoqlError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})?)
      | (?P<date>\d{4}-\d{2}-\d{2})
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<string>'(?:[^'\\]|\\.)*')
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),])
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"select", "from", "where", "and", "or", "not", "order", "by", "asc", "desc", "nulls", "first", "last",
             "limit", "offset", "in", "like", "true", "false", "null", "includes", "excludes", "group", "having",
             "with", "for", "using", "scope"}


@dataclass(frozen=True)
class Tok:
    kind: str  # datetime, date, number, string, op, punct, ident, keyword, end
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def _tokenize(soql: str) -> list[Tok]:
    tokens, pos = [], 0
    while pos < len(soql):
        if soql[pos:].strip() == "":
            break
        match = _TOKEN.match(soql, pos)
        if not match or match.end() == pos:
            bad = soql[pos:].lstrip()[:1]
            raise SoqlError("MALFORMED_QUERY", _malformed(soql, len(soql) - len(soql[pos:].lstrip()),
                                                          f"no viable alternative at character '{bad}'"))
        kind = match.lastgroup or "ident"
        text = match.group(kind)
        start = match.start(kind)
        if kind == "ident" and text.lower() in _KEYWORDS:
            kind = "keyword"
        tokens.append(Tok(kind, text, start))
        pos = match.end()
    tokens.append(Tok("end", "", len(soql)))
    return tokens


def _malformed(soql: str, pos: int, what: str) -> str:
    return f"\n{soql}\n{' ' * pos}^\nERROR at Row:1:Column:{pos + 1}\n{what}"


@dataclass(frozen=True)
class Cmp:
    path: str
    op: str  # = != < <= > >= IN NOT IN LIKE
    value: Any  # a literal, or a tuple of literals for IN
    kind: str  # literal kind: datetime, date, number, string, boolean, null, list
    pos: int


@dataclass(frozen=True)
class BoolExpr:
    op: str  # AND, OR, NOT
    parts: tuple[Any, ...]


@dataclass
class Query:
    fields: list[tuple[str, int]]  # (path as written, position)
    sobject: str
    sobject_pos: int
    where: Cmp | BoolExpr | None = None
    order: list[tuple[str, bool, bool | None, int]] = field(default_factory=list)  # (path, desc, nulls_last, pos)
    limit: int | None = None
    offset: int = 0


class _Parser:
    def __init__(self, soql: str) -> None:
        self.soql = soql
        self.tokens = _tokenize(soql)
        self.i = 0

    @property
    def tok(self) -> Tok:
        return self.tokens[self.i]

    def fail(self, tok: Tok | None = None) -> SoqlError:
        tok = tok or self.tok
        what = "unexpected end of query" if tok.kind == "end" else f"unexpected token: '{tok.text}'"
        return SoqlError("MALFORMED_QUERY", _malformed(self.soql, tok.pos, what))

    def next(self) -> Tok:
        tok = self.tok
        self.i += 1
        return tok

    def keyword(self, *words: str) -> bool:
        if self.tok.kind == "keyword" and self.tok.upper in words:
            self.i += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise self.fail()

    def parse(self) -> Query:
        self.expect_keyword("SELECT")
        fields = [self.field_ref()]
        while self.tok.text == ",":
            self.next()
            fields.append(self.field_ref())
        self.expect_keyword("FROM")
        if self.tok.kind != "ident" or "." in self.tok.text:
            raise self.fail()
        obj = self.next()
        query = Query(fields, obj.text, obj.pos)
        if self.keyword("WHERE"):
            query.where = self.expr()
        if self.keyword("ORDER"):
            self.expect_keyword("BY")
            while True:
                path, pos = self.field_ref()
                desc = self.keyword("DESC")
                if not desc:
                    self.keyword("ASC")
                nulls_last: bool | None = None
                if self.keyword("NULLS"):
                    if self.keyword("FIRST"):
                        nulls_last = False
                    elif self.keyword("LAST"):
                        nulls_last = True
                    else:
                        raise self.fail()
                query.order.append((path, desc, nulls_last, pos))
                if self.tok.text != ",":
                    break
                self.next()
        if self.keyword("LIMIT"):
            query.limit = self.integer()
        if self.keyword("OFFSET"):
            query.offset = self.integer()
        if self.tok.kind != "end":
            raise self.fail()
        return query

    def integer(self) -> int:
        tok = self.next()
        if tok.kind != "number" or not tok.text.isdigit():
            raise self.fail(tok)
        return int(tok.text)

    def field_ref(self) -> tuple[str, int]:
        tok = self.next()
        if tok.kind != "ident":
            raise self.fail(tok)
        return tok.text, tok.pos

    def expr(self) -> Cmp | BoolExpr:
        first = self.term()
        parts, joiner = [first], None
        while self.tok.kind == "keyword" and self.tok.upper in ("AND", "OR"):
            word = self.tok.upper
            if joiner and word != joiner:  # SOQL requires parentheses when AND and OR are mixed
                raise self.fail()
            joiner = word
            self.next()
            parts.append(self.term())
        return BoolExpr(joiner, tuple(parts)) if joiner else first

    def term(self) -> Cmp | BoolExpr:
        if self.keyword("NOT"):
            return BoolExpr("NOT", (self.term(),))
        if self.tok.text == "(":
            self.next()
            inner = self.expr()
            if self.tok.text != ")":
                raise self.fail()
            self.next()
            return inner
        path, pos = self.field_ref()
        if self.keyword("NOT"):
            self.expect_keyword("IN")
            return Cmp(path, "NOT IN", self.value_list(), "list", pos)
        if self.keyword("IN"):
            return Cmp(path, "IN", self.value_list(), "list", pos)
        if self.keyword("LIKE"):
            tok = self.next()
            if tok.kind != "string":
                raise self.fail(tok)
            return Cmp(path, "LIKE", _unquote(tok.text), "string", pos)
        op = self.next()
        if op.kind != "op":
            raise self.fail(op)
        kind, value = self.literal()
        return Cmp(path, "!=" if op.text == "<>" else op.text, value, kind, pos)

    def value_list(self) -> tuple[tuple[str, Any], ...]:
        if self.next().text != "(":
            raise self.fail(self.tokens[self.i - 1])
        values = [self.literal()]
        while self.tok.text == ",":
            self.next()
            values.append(self.literal())
        if self.next().text != ")":
            raise self.fail(self.tokens[self.i - 1])
        return tuple(values)

    def literal(self) -> tuple[str, Any]:
        tok = self.next()
        if tok.kind == "datetime":
            if not re.search(r"(Z|[+-]\d{2}:?\d{2})$", tok.text):
                raise SoqlError("MALFORMED_QUERY", _malformed(
                    self.soql, tok.pos, f"line 1:{tok.pos} no viable alternative at character ' ' "
                    f"(datetime literal {tok.text} needs a time zone: Z or +hh:mm)"))
            return "datetime", _parse_literal_datetime(tok.text)
        if tok.kind == "date":
            return "date", date.fromisoformat(tok.text)
        if tok.kind == "number":
            return "number", float(tok.text)
        if tok.kind == "string":
            return "string", _unquote(tok.text)
        if tok.kind == "keyword" and tok.upper in ("TRUE", "FALSE"):
            return "boolean", tok.upper == "TRUE"
        if tok.kind == "keyword" and tok.upper == "NULL":
            return "null", None
        raise self.fail(tok)


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), text[1:-1])


def _parse_literal_datetime(text: str) -> datetime:
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    return datetime.fromisoformat(text).astimezone(UTC)


def parse_soql(soql: str) -> Query:
    return _Parser(soql).parse()


# -------------------------------------------------------------------------------------------------------- simulator


@dataclass
class _Locator:
    rows: list[dict[str, Any]]
    batch: int
    endpoint: str
    version: str
    last_used: float = field(default_factory=time.monotonic)


class SalesforceSim(SimServer):
    """A Salesforce org on localhost. Every knob is a public attribute tests may set while it runs."""

    name = "salesforce"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed: int = 7, scale: float = 1.0,
                 client_id: str = DEFAULT_CLIENT_ID, client_secret: str = DEFAULT_CLIENT_SECRET,
                 daily_limit: int = 15_000) -> None:
        super().__init__(host, port)
        self.client_id, self.client_secret = client_id, client_secret
        # Connected / External Client App settings: each wrong one produces its documented token error.
        self.run_as_user: str | None = "integration@acme.example"
        self.scopes: set[str] = {"api", "refresh_token", "offline_access"}
        self.client_credentials_enabled = True
        self.generic_login_domain = False  # act as login.salesforce.com: "request not supported on this domain"
        # Sessions: tokens live until revoked, or for `session_ttl` seconds of wall time when set.
        self.session_ttl: float | None = None
        self.expire_sessions_after: int | None = None  # revoke every session after this many more data requests
        # Quota and query behaviour.
        self.daily_limit = daily_limit
        self.api_usage = 0
        self.background_usage = 0  # requests other integrations of the org make between two of ours
        self.max_batch: int | None = None  # force smaller pages than asked (batchSize is "not guaranteed")
        self.hidden_objects: set[str] = {"Opportunity"}  # the Run-As user's sharing hides every row
        self.clock: datetime | None = None  # None: wall time
        self.schema = _schema()
        self.data: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in self.schema}
        self.tokens: dict[str, float] = {}
        self.token_requests = 0
        self._locators: dict[str, _Locator] = {}
        self._counters: dict[str, int] = {}
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._seed(scale)

    # ---------------------------------------------------------------------------------------------------- clock
    def now(self) -> datetime:
        return _ms(self.clock or datetime.now(UTC)).replace(microsecond=0)

    def set_clock(self, value: datetime) -> None:
        self.clock = value.astimezone(UTC)

    def advance(self, seconds: float) -> datetime:
        self.clock = self.now() + timedelta(seconds=seconds)
        return self.clock

    # -------------------------------------------------------------------------------------------- mutation API
    def insert(self, sobject: str, values: dict[str, Any] | None = None, at: datetime | None = None) -> str:
        with self._lock:
            obj = self.schema[sobject]
            when = _ms(at) if at else self.now()
            n = self._counters.get(sobject, 0) + 1
            self._counters[sobject] = n
            record: dict[str, Any] = {f.name: None for f in obj.fields}
            record.update(Id=make_id(obj.key_prefix, n), CreatedDate=when, LastModifiedDate=when,
                          SystemModstamp=when)
            if "IsDeleted" in record:
                record["IsDeleted"] = False
            for name in ("OwnerId", "CreatedById", "LastModifiedById"):
                if name in record:
                    record[name] = RUN_AS_USER_ID
            if sobject == "Case":
                record["CaseNumber"] = f"{n:08d}"
            elif obj.custom and "Name" in record:
                record["Name"] = f"{''.join(w[0] for w in obj.label.split())}-{n:05d}"
            record.update(self._coerce(obj, values or {}))
            self.data[sobject][record["Id"]] = record
            return str(record["Id"])

    def update(self, sobject: str, record_id: str, values: dict[str, Any], at: datetime | None = None) -> None:
        with self._lock:
            obj, record = self.schema[sobject], self.data[sobject][record_id]
            when = _ms(at) if at else self.now()
            record.update(self._coerce(obj, values))
            record["LastModifiedDate"] = when
            record["SystemModstamp"] = max(when, record["SystemModstamp"])

    def delete(self, sobject: str, record_id: str, at: datetime | None = None) -> None:
        """Soft delete (Recycle Bin): visible only to queryAll, with IsDeleted=true."""
        with self._lock:
            record = self.data[sobject][record_id]
            when = _ms(at) if at else self.now()
            record.update(IsDeleted=True, LastModifiedDate=when, SystemModstamp=max(when, record["SystemModstamp"]))

    def undelete(self, sobject: str, record_id: str, at: datetime | None = None) -> None:
        with self._lock:
            record = self.data[sobject][record_id]
            when = _ms(at) if at else self.now()
            record.update(IsDeleted=False, LastModifiedDate=when, SystemModstamp=max(when, record["SystemModstamp"]))

    def purge(self, sobject: str, record_id: str) -> None:
        """Hard delete (emptied Recycle Bin): gone even from queryAll."""
        with self._lock:
            del self.data[sobject][record_id]

    def touch_system(self, sobject: str, record_id: str, at: datetime | None = None) -> None:
        """A system update: SystemModstamp moves, LastModifiedDate does not."""
        with self._lock:
            self.data[sobject][record_id]["SystemModstamp"] = _ms(at) if at else self.now()

    def revoke_sessions(self) -> None:
        with self._lock:
            self.tokens.clear()

    def expire_locators(self) -> None:
        with self._lock:
            self._locators.clear()

    def records(self, sobject: str, *, include_deleted: bool = False, visible_only: bool = True
                ) -> list[dict[str, Any]]:
        """What a complete sync should see: copies of the rows the Run-As user can read."""
        with self._lock:
            if visible_only and sobject in self.hidden_objects:
                return []
            return [dict(r) for r in self.data[sobject].values() if include_deleted or not r.get("IsDeleted")]

    def standard_fields(self, sobject: str) -> list[str]:
        return [f.name for f in self.schema[sobject].fields if not f.custom]

    def _coerce(self, obj: ObjectDef, values: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in values.items():
            fdef = obj.field(name)
            if fdef is None:
                raise KeyError(f"{obj.name} has no field {name}")
            if fdef.type == "datetime" and isinstance(value, str):
                value = _parse_literal_datetime(value)
            if isinstance(value, datetime):
                value = _ms(value)
            out[fdef.name] = value
        return out

    # -------------------------------------------------------------------------------------------------- HTTP
    def handle(self, request: Request) -> Response:
        if request.path.rstrip("/") == "/services/oauth2/token":
            return self._token(request)
        match = _PATH.match(request.path)
        if request.path.rstrip("/") == "/services/data":
            return Response.json([{"label": f"v{v}", "url": f"/services/data/v{v}", "version": v}
                                  for v in API_VERSIONS])
        if not match:
            return _error(404, "NOT_FOUND", "The requested resource does not exist")
        version, rest = match.group(1), (match.group(2) or "/")
        if version not in API_VERSIONS:
            return _error(404, "NOT_FOUND", "The requested resource does not exist")
        with self._lock:
            unauthorized = self._check_session(request)
            if unauthorized:
                return unauthorized
            if rest.rstrip("/") != "/limits":
                self.api_usage += self.background_usage
                if self.api_usage >= self.daily_limit:
                    return self._with_usage(_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))
                self.api_usage += 1
            if request.method != "GET":
                return self._with_usage(_error(405, "METHOD_NOT_ALLOWED",
                                               f"HTTP Method '{request.method}' not allowed. Allowed are GET"))
            return self._with_usage(self._route(request, version, rest))

    def _with_usage(self, response: Response) -> Response:
        response.headers["Sforce-Limit-Info"] = f"api-usage={self.api_usage}/{self.daily_limit}"
        return response

    def _check_session(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if self.expire_sessions_after is not None:
            if self.expire_sessions_after <= 0:
                self.tokens.clear()
                self.expire_sessions_after = None
            else:
                self.expire_sessions_after -= 1
        issued = self.tokens.get(token)
        if issued is not None and self.session_ttl is not None and time.monotonic() - issued > self.session_ttl:
            del self.tokens[token]
            issued = None
        if issued is None:
            return Response.json([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], 401,
                                 {"WWW-Authenticate": 'Token realm="Salesforce"'})
        return None

    def _route(self, request: Request, version: str, rest: str) -> Response:
        if rest.rstrip("/") == "/limits":
            return Response.json({"DailyApiRequests": {"Max": self.daily_limit,
                                                       "Remaining": max(0, self.daily_limit - self.api_usage)}})
        if rest.rstrip("/") == "/sobjects":
            return Response.json({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [
                {k: v for k, v in o.describe().items() if k not in ("fields", "urls")} for o in self.schema.values()]})
        described = _DESCRIBE_PATH.match(rest)
        if described:
            obj = self._object(unquote(described.group(1)))
            if obj is None:
                return _error(404, "NOT_FOUND", "The requested resource does not exist")
            body = obj.describe()
            body["urls"] = {"describe": f"/services/data/v{version}/sobjects/{obj.name}/describe"}
            return Response.json(body)
        queried = _QUERY_PATH.match(rest)
        if queried:
            endpoint, locator, offset = queried.group(1), queried.group(2), queried.group(3)
            if locator:
                return self._next_page(locator, int(offset), version)
            return self._query(request, endpoint, version)
        return _error(404, "NOT_FOUND", "The requested resource does not exist")

    def _object(self, name: str) -> ObjectDef | None:
        return next((o for o in self.schema.values() if o.name.lower() == name.lower()), None)

    # ------------------------------------------------------------------------------------------------- token
    def _token(self, request: Request) -> Response:
        self.token_requests += 1
        if request.method != "POST":
            return Response.json({"error": "invalid_request", "error_description": "must use HTTP POST"}, 400)
        form = request.form()
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                key, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
                form.setdefault("client_id", unquote(key))
                form.setdefault("client_secret", unquote(secret))
            except ValueError:
                pass
        if self.generic_login_domain:
            return _oauth_error("invalid_request", "request not supported on this domain")
        if form.get("grant_type") != "client_credentials":
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        if form.get("client_id") != self.client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if form.get("client_secret") != self.client_secret:
            return _oauth_error("invalid_client", "invalid client credentials")
        if not self.client_credentials_enabled:
            return _oauth_error("invalid_grant", "client credentials flow is not enabled for this client")
        if "api" not in self.scopes:
            return _oauth_error("invalid_grant", "no valid scopes defined")
        if not self.run_as_user:
            return _oauth_error("invalid_grant", "no client credentials user enabled")
        with self._lock:
            token = f"{ORG_ID}!AQ" + hashlib.sha256(f"{time.time_ns()}-{len(self.tokens)}".encode()).hexdigest()[:96]
            self.tokens[token] = time.monotonic()
        issued_at = str(int(time.time() * 1000))
        signature = base64.b64encode(hashlib.sha256(f"{token}{issued_at}".encode()).digest()).decode()
        return Response.json({
            "access_token": token,
            "signature": signature,
            "scope": " ".join(sorted(self.scopes)),
            "instance_url": self.url,
            "id": f"{self.url}/id/{ORG_ID}/{RUN_AS_USER_ID}",
            "token_type": "Bearer",
            "issued_at": issued_at,
        })

    # ------------------------------------------------------------------------------------------------- query
    def _query(self, request: Request, endpoint: str, version: str) -> Response:
        soql = request.arg("q")
        if not soql:
            return _error(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            query = parse_soql(soql)
            rows = self._execute(query, soql, include_deleted=endpoint == "queryAll", version=version)
        except SoqlError as exc:
            return _error(400, exc.code, exc.message)
        batch = DEFAULT_BATCH
        options = request.headers.get("sforce-query-options", "")
        asked = re.search(r"batchSize\s*=\s*(\d+)", options)
        if asked:
            batch = min(MAX_BATCH, max(MIN_BATCH, int(asked.group(1))))
        if self.max_batch:
            batch = min(batch, self.max_batch)
        locator = _Locator(rows, batch, endpoint, version)
        return self._page(locator, self._locator_id(), 0)

    def _locator_id(self) -> str:
        n = self._counters.get("__locator", 0) + 1
        self._counters["__locator"] = n
        id15 = f"01g5g0000{n:06d}"
        return id15 + _checksum(id15)

    def _next_page(self, locator_id: str, offset: int, version: str) -> Response:
        locator = self._locators.get(locator_id)
        if locator is None:
            return _error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        locator.last_used = time.monotonic()
        return self._page(locator, locator_id, offset)

    def _page(self, locator: _Locator, locator_id: str, offset: int) -> Response:
        page = locator.rows[offset: offset + locator.batch]
        end = offset + len(page)
        body: dict[str, Any] = {"totalSize": len(locator.rows), "done": end >= len(locator.rows)}
        if end < len(locator.rows):
            self._locators[locator_id] = locator
            body["nextRecordsUrl"] = f"/services/data/v{locator.version}/{locator.endpoint}/{locator_id}-{end}"
        else:
            self._locators.pop(locator_id, None)
        body["records"] = page
        return Response.json(body)

    def _execute(self, query: Query, soql: str, *, include_deleted: bool, version: str) -> list[dict[str, Any]]:
        obj = self._object(query.sobject)
        if obj is None:
            raise SoqlError("INVALID_TYPE", _malformed(
                soql, query.sobject_pos,
                f"sObject type '{query.sobject}' is not supported. If you are attempting to use a custom object, be "
                "sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for "
                "the appropriate names."))
        selected = [(path, self._resolve(obj, path, pos, soql)) for path, pos in query.fields]
        seen: set[str] = set()
        for path, _ in selected:
            if path.lower() in seen:
                raise SoqlError("DUPLICATE_FIELD", f"duplicate field selected: {path}")
            seen.add(path.lower())
        where = query.where
        if where is not None:
            self._check_where(obj, where, soql)
        order = []
        for path, desc, nulls_last, pos in query.order:
            fdef = self._resolve(obj, path, pos, soql)
            if not fdef.sortable:
                raise SoqlError("INVALID_FIELD", _malformed(
                    soql, pos, f"field '{fdef.name}' can not be sorted in a query call"))
            order.append((path, desc, desc if nulls_last is None else nulls_last))
        rows = [] if obj.name in self.hidden_objects else list(self.data[obj.name].values())
        if not include_deleted:
            rows = [r for r in rows if not r.get("IsDeleted")]
        if where is not None:
            rows = [r for r in rows if self._eval(obj, r, where)]
        for path, desc, nulls_last in reversed(order):
            present = [r for r in rows if self._value(obj, r, path) is not None]
            missing = [r for r in rows if self._value(obj, r, path) is None]
            ftype = self._resolve(obj, path, 0, soql).type
            present.sort(key=lambda r: _sort_key(self._value(obj, r, path), ftype), reverse=desc)  # noqa: B023
            rows = present + missing if nulls_last else missing + present
        rows = rows[query.offset:]
        if query.limit is not None:
            rows = rows[: query.limit]
        return [self._project(obj, r, [p for p, _ in selected], version) for r in rows]

    def _resolve(self, obj: ObjectDef, path: str, pos: int, soql: str) -> FieldDef:
        """The field a path names (`Subject`, `Account.Name`, `Case__r.Subject`), or INVALID_FIELD."""
        parts = path.split(".")
        current = obj
        for i, part in enumerate(parts):
            if i == len(parts) - 1:
                fdef = current.field(part)
                if fdef is not None:
                    return fdef
                break
            rel = current.relationship(part)
            if rel is None or not rel.reference_to or rel.reference_to[0] not in self.schema:
                break
            current = self.schema[rel.reference_to[0]]
        shown = obj.name if len(parts) == 1 else current.name
        raise SoqlError("INVALID_FIELD", _malformed(
            soql, pos,
            f"No such column '{parts[-1] if len(parts) == 1 else path}' on entity '{shown}'. If you are attempting to "
            "use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL "
            "or the describe call for the appropriate names."))

    def _check_where(self, obj: ObjectDef, node: Cmp | BoolExpr, soql: str) -> None:
        if isinstance(node, BoolExpr):
            for part in node.parts:
                self._check_where(obj, part, soql)
            return
        fdef = self._resolve(obj, node.path, node.pos, soql)
        if not fdef.filterable:
            raise SoqlError("INVALID_FIELD", _malformed(
                soql, node.pos, f"field '{fdef.name}' can not be filtered in a query call"))
        literals = node.value if node.kind == "list" else ((node.kind, node.value),)
        for kind, value in literals:
            if kind == "null":
                if node.op not in ("=", "!=", "IN", "NOT IN"):
                    raise SoqlError("MALFORMED_QUERY", _malformed(soql, node.pos, "unexpected token: 'null'"))
                continue
            expected = _literal_kind(fdef.type)
            if kind != expected:
                wanted = {"datetime": "dateTime", "number": "double"}.get(expected, expected)
                quoted = " and should not be enclosed in quotes" if kind == "string" else ""
                raise SoqlError("INVALID_FIELD", _malformed(
                    soql, node.pos,
                    f"value of filter criterion for field '{fdef.name}' must be of type {wanted}{quoted}"))
            if fdef.type in ("id", "reference") and not _ID_RE.match(str(value)):
                raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", _malformed(
                    soql, node.pos, f"invalid ID field: {value}"))
        if node.op == "LIKE" and _literal_kind(fdef.type) != "string":
            raise SoqlError("INVALID_FIELD", _malformed(soql, node.pos, f"invalid operator on field '{fdef.name}'"))

    def _value(self, obj: ObjectDef, record: dict[str, Any] | None, path: str) -> Any:
        parts = path.split(".")
        current, row = obj, record
        for part in parts[:-1]:
            if row is None:
                return None
            rel = current.relationship(part)
            assert rel is not None
            current = self.schema[rel.reference_to[0]]
            row = self.data[current.name].get(row.get(rel.name) or "")
        if row is None:
            return None
        fdef = current.field(parts[-1])
        assert fdef is not None
        return row.get(fdef.name)

    def _eval(self, obj: ObjectDef, record: dict[str, Any], node: Cmp | BoolExpr) -> bool:
        if isinstance(node, BoolExpr):
            if node.op == "AND":
                return all(self._eval(obj, record, p) for p in node.parts)
            if node.op == "OR":
                return any(self._eval(obj, record, p) for p in node.parts)
            return not self._eval(obj, record, node.parts[0])
        value = self._value(obj, record, node.path)
        ftype = self._resolve(obj, node.path, node.pos, "").type
        if node.op in ("IN", "NOT IN"):
            hit = any(_compare(value, "=", lit, ftype) for _, lit in node.value)
            return hit if node.op == "IN" else not hit
        if node.op == "LIKE":
            if value is None:
                return False
            pattern = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in node.value)
            return re.fullmatch(pattern, str(value), re.IGNORECASE | re.DOTALL) is not None
        return _compare(value, node.op, node.value, ftype)

    def _project(self, obj: ObjectDef, record: dict[str, Any], paths: list[str], version: str) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": {"type": obj.name,
                                              "url": f"/services/data/v{version}/sobjects/{obj.name}/{record['Id']}"}}
        for path in paths:
            self._put(obj, record, path.split("."), out, version)
        return out

    def _put(self, obj: ObjectDef, record: dict[str, Any], parts: list[str], out: dict[str, Any], version: str
             ) -> None:
        if len(parts) == 1:
            fdef = obj.field(parts[0])
            assert fdef is not None
            out[fdef.name] = _json_value(record.get(fdef.name))
            return
        rel = obj.relationship(parts[0])
        assert rel is not None and rel.relationship_name
        target = self.schema[rel.reference_to[0]]
        child = self.data[target.name].get(record.get(rel.name) or "")
        if child is None:
            out[rel.relationship_name] = None
            return
        nested = out.get(rel.relationship_name)
        if not isinstance(nested, dict):
            nested = out[rel.relationship_name] = {"attributes": {
                "type": target.name, "url": f"/services/data/v{version}/sobjects/{target.name}/{child['Id']}"}}
        self._put(target, child, parts[1:], nested, version)

    # -------------------------------------------------------------------------------------------------- seed
    def _seed(self, scale: float) -> None:
        rng = self._rng
        users = [("Integration", "User", "integration@acme.example"), ("Dana", "Okafor", "dana.okafor@acme.example"),
                 ("Luis", "Martinez", "luis.martinez@acme.example"), ("Priya", "Raman", "priya.raman@acme.example"),
                 ("Tom", "Becker", "tom.becker@acme.example"), ("Mei", "Chen", "mei.chen@acme.example")]
        for i, (first, last, email) in enumerate(users, start=1):
            uid = RUN_AS_USER_ID if i == 1 else make_id("005", i)
            self.data["User"][uid] = {"Id": uid, "Username": email, "Name": f"{first} {last}", "FirstName": first,
                                      "LastName": last, "Email": email, "IsActive": True,
                                      "UserType": "AutomatedProcess" if i == 1 else "Standard",
                                      "Title": "Integration" if i == 1 else "Support Engineer",
                                      "CreatedDate": DATA_START, "LastModifiedDate": DATA_START,
                                      "SystemModstamp": DATA_START}
        owners = list(self.data["User"])

        def moment(lo: datetime = DATA_START, hi: datetime = DATA_END) -> datetime:
            return lo + timedelta(seconds=rng.randrange(int((hi - lo).total_seconds())))

        def later(start: datetime) -> datetime:
            end = min(DATA_END, start + timedelta(days=rng.choice([0, 0, 1, 3, 10, 40])))
            return start + timedelta(seconds=rng.randrange(max(1, int((end - start).total_seconds()) + 1)))

        def add(sobject: str, values: dict[str, Any]) -> str:
            created = moment()
            record_id = self.insert(sobject, values, at=created)
            modified = later(created)
            owner = rng.choice(owners)
            row = self.data[sobject][record_id]
            row.update(LastModifiedDate=modified, SystemModstamp=modified, OwnerId=owner,
                       LastModifiedById=rng.choice(owners))
            if rng.random() < 0.15:  # system updates move SystemModstamp past LastModifiedDate
                row["SystemModstamp"] = min(DATA_END, modified + timedelta(seconds=rng.randrange(1, 86400)))
            return record_id

        accounts = [add("Account", _account(rng, i)) for i in range(int(120 * scale) or 1)]
        contacts = []
        for _ in range(int(400 * scale) or 1):
            account = rng.choice(accounts)
            values = _contact(rng, self.data["Account"][account]["Name"]) | {"AccountId": account}
            contacts.append((add("Contact", values), account))
        cases = []
        for _ in range(int(1500 * scale) or 1):
            contact, account = rng.choice(contacts)
            cases.append(add("Case", _case(rng, self.data["Contact"][contact], contact, account)))
        for case_id in cases:
            row = self.data["Case"][case_id]
            if row["IsClosed"]:
                row["ClosedDate"] = row["LastModifiedDate"]
        for _ in range(int(300 * scale) or 1):
            add("Incident_Review__c", _review(rng, rng.choice(cases)))
        for _ in range(int(150 * scale) or 1):
            escalation = add("acme__Escalation__c", _escalation(rng, rng.choice(cases)))
            row = self.data["acme__Escalation__c"][escalation]
            row["acme__Escalated_At__c"] = row["CreatedDate"]
        for _ in range(int(60 * scale) or 1):
            add("Opportunity", _opportunity(rng, rng.choice(accounts)))
        # Mass updates (Data Loader, a workflow rule): hundreds of rows share one LastModifiedDate to the second,
        # spanning several pages of any batch size.
        for sobject, share in (("Case", 0.3), ("Contact", 0.2), ("Incident_Review__c", 0.25)):
            stamps = [datetime(2025, 2, 3, 10, 15, 0, tzinfo=UTC),
                      *(moment(datetime(2025, 2, 4, tzinfo=UTC)) for _ in range(2))]
            ids = [i for i, r in self.data[sobject].items() if r["CreatedDate"] <= stamps[0]]
            rng.shuffle(ids)
            chosen = ids[: int(len(self.data[sobject]) * share)]
            for i, record_id in enumerate(chosen):
                row = self.data[sobject][record_id]
                row["LastModifiedDate"] = stamps[0] if i < len(chosen) // 2 else rng.choice(stamps)
                row["SystemModstamp"] = row["LastModifiedDate"]
        # Some rows sit in the Recycle Bin.
        for sobject, share in (("Case", 0.03), ("Contact", 0.02), ("Incident_Review__c", 0.05)):
            for record_id in rng.sample(list(self.data[sobject]), int(len(self.data[sobject]) * share)):
                row = self.data[sobject][record_id]
                row["IsDeleted"] = True
                row["LastModifiedDate"] = row["SystemModstamp"] = later(row["LastModifiedDate"])


def _sort_key(value: Any, field_type: str) -> Any:
    return value.lower() if isinstance(value, str) and field_type not in ("id", "reference") else value


def _literal_kind(field_type: str) -> str:
    if field_type in ("datetime",):
        return "datetime"
    if field_type == "date":
        return "date"
    if field_type == "boolean":
        return "boolean"
    if field_type in ("int", "double", "currency", "percent"):
        return "number"
    return "string"


def _compare(value: Any, op: str, literal: Any, field_type: str) -> bool:
    if literal is None:
        return (value is None) if op == "=" else (value is not None) if op == "!=" else False
    if value is None:
        return op == "!="
    if field_type in ("id", "reference"):
        if len(literal) == 15:  # a 15-character id is the case-sensitive form of the 18-character one
            value = value[:15]
    elif isinstance(value, str) and isinstance(literal, str):  # text comparisons are case-insensitive
        value, literal = value.lower(), literal.lower()
    try:
        return bool({"=": value == literal, "!=": value != literal, "<": value < literal, "<=": value <= literal,
                     ">": value > literal, ">=": value >= literal}[op])
    except TypeError:
        return False


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return sf_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _error(status: int, code: str, message: str) -> Response:
    return Response.json([{"message": message, "errorCode": code}], status)


def _oauth_error(code: str, description: str) -> Response:
    return Response.json({"error": code, "error_description": description}, 400)


# -------------------------------------------------------------------------------------------------- seed content

_COMPANIES = ["Northwind Logistics", "Contoso Health", "Fabrikam Retail", "Globex Energy", "Initech Finance",
              "Umbrella Pharma", "Stark Manufacturing", "Wayne Telecom", "Acme Insurance", "Tyrell Biotech",
              "Cyberdyne Systems", "Soylent Foods", "Hooli Cloud", "Pied Piper Media", "Vandelay Imports"]
_FIRST = ["Alice", "Bruno", "Chloe", "Deepak", "Elena", "Farah", "Gustav", "Hana", "Ivan", "Jasmine", "Kofi", "Lena",
          "Marco", "Nadia", "Oscar", "Paula", "Quentin", "Rosa", "Sven", "Tariq", "Uma", "Victor", "Wendy", "Yusuf"]
_LAST = ["Anderson", "Bauer", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
         "Kowalski", "Lopez", "Moreau", "Nakamura", "O'Brien", "Petrov", "Quinn", "Rossi", "Schmidt", "Tanaka"]
_SUBJECTS = [
    "VPN disconnects every few minutes for remote staff", "Cannot log in to the customer portal after password reset",
    "Invoice totals do not match the purchase order", "Order confirmation emails not delivered",
    "Mobile app crashes when uploading a photo", "Billing address cannot be updated", "API returns 500 on bulk export",
    "Shipment tracking shows the wrong carrier", "Request to close account and delete data",
    "Dashboard widgets load very slowly since the upgrade", "SSO login loops back to the sign-in page",
    "Refund not received after 14 days", "Duplicate charges on credit card", "Printer queue stuck at the Berlin office",
    "License count wrong after renewal", "Data sync to the warehouse stopped overnight",
]
_DESCRIPTIONS = [
    "Customer reports that {subject_lc}. Called from {phone}; prefers email at {email}. First noticed on {day}.",
    "{name} ({email}) says: \"{subject}\". Impact: about {n} users at {company}. Workaround: none so far.",
    "Escalated by the account manager. Contact {name} at {phone} between 9 and 5 CET. Reference order #{order}.",
    "Steps to reproduce: 1) sign in as {email} 2) open the billing page 3) click Save. Error: HTTP 500. "
    "Card on file ending {card4}. Please call back on {phone}.",
    "Follow-up to case {other}. The customer replied from {email} and attached a log. Root cause suspected in "
    "the nightly batch job.",
]
_ROOT_CAUSES = [
    "Certificate on the VPN concentrator expired at 02:00 UTC; renewal job had been disabled during the migration.",
    "A schema change in the billing service removed a nullable column the invoice renderer still read.",
    "Mail relay rate limit reached after a marketing campaign; transactional mail queued behind it.",
    "Memory leak in the photo upload handler introduced in release 4.2.1.",
    "Identity provider metadata rotated without updating the service provider configuration.",
    "The overnight sync used a token issued to an employee whose account was deactivated.",
]


def _phone(rng: random.Random) -> str:
    n = rng.randrange(10000)
    return rng.choice([f"+1 (415) 555-{n:04d}", f"+44 20 7946 {n:04d}", f"+49 30 9018{n:04d}", f"(212) 555-{n:04d}"])


def _person(rng: random.Random, company: str) -> tuple[str, str, str]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    domain = re.sub(r"[^a-z]", "", company.lower().split()[0]) + ".example.com"
    return first, last, f"{first.lower()}.{re.sub(r'[^a-z]', '', last.lower())}@{domain}"


def _account(rng: random.Random, i: int) -> dict[str, Any]:
    base = _COMPANIES[i % len(_COMPANIES)]
    name = base if i < len(_COMPANIES) else f"{base} {['EMEA', 'APAC', 'Americas', 'Labs', 'Holdings'][i % 5]} {i}"
    return {"Name": name, "Type": rng.choice(["Customer - Direct", "Customer - Channel", "Partner", "Prospect"]),
            "Industry": rng.choice(["Healthcare", "Retail", "Energy", "Finance", "Manufacturing", "Technology"]),
            "Phone": _phone(rng), "Website": f"https://www.{re.sub(r'[^a-z]', '', base.lower())}.example.com",
            "BillingCity": rng.choice(["San Francisco", "London", "Berlin", "Singapore", "Toronto", "Sydney"]),
            "BillingCountry": rng.choice(["US", "GB", "DE", "SG", "CA", "AU"]),
            "NumberOfEmployees": rng.choice([40, 250, 1200, 8000, 45000]),
            "AnnualRevenue": float(rng.randrange(1, 500) * 1_000_000),
            "Description": f"{name} has been a customer since {rng.randrange(2012, 2024)}.",
            "Tier__c": rng.choice(["Gold", "Silver", "Bronze"])}


def _contact(rng: random.Random, company: str) -> dict[str, Any]:
    first, last, email = _person(rng, company)
    return {"FirstName": first, "LastName": last, "Name": f"{first} {last}", "Email": email, "Phone": _phone(rng),
            "MobilePhone": _phone(rng) if rng.random() < 0.5 else None,
            "Title": rng.choice(["IT Manager", "CFO", "Support Lead", "Network Engineer", "Office Manager"]),
            "Department": rng.choice(["IT", "Finance", "Operations", "Facilities"]),
            "MailingCity": rng.choice(["Austin", "Leeds", "Munich", "Osaka", "Lyon"]),
            "Preferred_Channel__c": rng.choice(["Email", "Phone", "Portal", None])}


def _case(rng: random.Random, contact: dict[str, Any], contact_id: str, account_id: str) -> dict[str, Any]:
    subject = rng.choice(_SUBJECTS)
    company = rng.choice(_COMPANIES)
    phone = _phone(rng)
    description = rng.choice(_DESCRIPTIONS).format(
        subject=subject, subject_lc=subject[0].lower() + subject[1:], phone=phone, email=contact["Email"],
        day=f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 28):02d}", name=contact["Name"],
        n=rng.randrange(2, 400),
        company=company, order=rng.randrange(100000, 999999), card4=f"{rng.randrange(10000):04d}",
        other=f"{rng.randrange(1, 1500):08d}")
    status = rng.choice(["New", "Working", "Escalated", "Closed", "Closed"])
    return {"Subject": subject, "Description": description, "Status": status,
            "Priority": rng.choice(["High", "Medium", "Medium", "Low"]),
            "Origin": rng.choice(["Phone", "Email", "Web"]),
            "Type": rng.choice(["Problem", "Question", "Feature Request", None]),
            "Reason": rng.choice(["Performance", "Breakdown", "Installation", "User didn't attend training", None]),
            "SuppliedName": contact["Name"], "SuppliedEmail": contact["Email"], "SuppliedPhone": phone,
            "SuppliedCompany": company, "AccountId": account_id, "ContactId": contact_id,
            "IsClosed": status == "Closed", "IsEscalated": status == "Escalated",
            "Escalation_Notes__c": (f"Escalated to tier 2; customer callback {phone}." if status == "Escalated"
                                    else None),
            "acme__Severity__c": rng.choice(["Sev1", "Sev2", "Sev3", "Sev4"])}


def _review(rng: random.Random, case_id: str) -> dict[str, Any]:
    return {"Case__c": case_id, "Severity__c": rng.choice(["Sev1", "Sev2", "Sev3"]),
            "Root_Cause__c": rng.choice(_ROOT_CAUSES),
            "Action_Items__c": "1. Add monitoring for expiry.\n2. Document the runbook.\n3. Review with the vendor.",
            "Review_Date__c": date(2024, rng.randrange(1, 13), rng.randrange(1, 28)),
            "Reviewer_Email__c": f"{rng.choice(_FIRST).lower()}.reviewer@acme.example",
            "Customer_Impact_Minutes__c": float(rng.randrange(5, 900))}


def _escalation(rng: random.Random, case_id: str) -> dict[str, Any]:
    return {"acme__Case__c": case_id, "acme__Level__c": rng.choice(["L2", "L3", "Engineering"]),
            "acme__Notes__c": rng.choice(["Customer executive involved.", "Possible outage, paging on-call.",
                                          "Contract SLA at risk."])}


def _opportunity(rng: random.Random, account_id: str) -> dict[str, Any]:
    return {"Name": f"Renewal {rng.randrange(2024, 2027)}", "StageName": rng.choice(["Prospecting", "Closed Won"]),
            "Amount": float(rng.randrange(10, 900) * 1000), "CloseDate": date(2025, rng.randrange(1, 13), 1),
            "AccountId": account_id}


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m udc.simulators salesforce`: serve a seeded Salesforce org in the foreground."""
    parser = argparse.ArgumentParser(prog="python -m udc.simulators salesforce",
                                     description="Serve a seeded Salesforce org (REST API, client credentials).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on start)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the seeded row counts (1: 1500 cases)")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument("--daily-limit", type=int, default=15_000, help="daily API requests (Sforce-Limit-Info)")
    parser.add_argument("--hide", action="append", default=None, metavar="OBJECT",
                        help="objects whose rows the Run-As user cannot see (repeatable; default Opportunity)")
    parser.add_argument("--token-error", choices=["none", "no-run-as-user", "no-api-scope", "generic-domain",
                                                  "flow-disabled"], default="none",
                        help="make every token request fail as the troubleshooting table describes")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    args = parser.parse_args(argv)
    sim = SalesforceSim(args.host, args.port, seed=args.seed, scale=args.scale, client_id=args.client_id,
                        client_secret=args.client_secret, daily_limit=args.daily_limit)
    if args.hide is not None:
        sim.hidden_objects = set(args.hide)
    if args.token_error == "no-run-as-user":
        sim.run_as_user = None
    elif args.token_error == "no-api-scope":
        sim.scopes = {"refresh_token", "offline_access"}
    elif args.token_error == "generic-domain":
        sim.generic_login_domain = True
    elif args.token_error == "flow-disabled":
        sim.client_credentials_enabled = False
    sim.faults.latency = args.latency
    counts = ", ".join(f"{len(rows)} {name}" for name, rows in sim.data.items() if name != "User")
    print(f"salesforce simulator listening on {sim.url} ({counts}; client_id {sim.client_id}, "
          f"client_secret {sim.client_secret})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sim.serve_forever()
    return 0
