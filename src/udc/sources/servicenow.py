"""ServiceNow Table API connector.

Reads each table in (sys_updated_on, sys_id) order with a compound keyset, so equal timestamps at a page
boundary and rows changing mid-sync never lose a record; short or empty pages (ACL filtering happens after the
limit) never end a stream — only a missing `next` link does. Deletes come from sys_audit_delete as tombstones.
"""

from __future__ import annotations

import difflib
import logging
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import orjson

from udc.config import Config, ServiceNowConnector, ServiceNowPipeline, TableSpec
from udc.errors import ConfigError
from udc.http.client import CallStats, HttpClient, HttpError, json_of
from udc.records import Page, Person, Position, Record, Window
from udc.sources.base import DirectoryUnreadable, Stream
from udc.sources.keyset import Batch, KeysetStream, dataset_of
from udc.timeutil import EPOCH, cursor_str, parse_time, snow_time

log = logging.getLogger("udc.servicenow")

TABLE_API = "/api/now/table/"
CURSOR, KEY = "sys_updated_on", "sys_id"
DEFAULT_OMIT = ("work_notes", "comments", "description", "close_notes")  # journal/free-text fields that grow huge
_FIELD = re.compile(r"^(?:ORDERBYDESC|ORDERBY)?([a-z0-9_.]+)")


_Offset = tuple[int, str | None]  # a row offset over ACL-hidden rows, and the x-total-count it was taken under


class _Result(msgspec.Struct):
    """A Table API answer with each row left as the source's JSON text."""

    result: list[msgspec.Raw]


_RESULT = msgspec.json.Decoder(_Result)


def build(config: Config, pipeline_name: str) -> ServiceNowSource:
    pipeline = config.pipeline(pipeline_name)
    connector = config.connector(pipeline.connector)
    assert isinstance(connector, ServiceNowConnector) and isinstance(pipeline, ServiceNowPipeline)
    return ServiceNowSource(pipeline.connector, connector, pipeline)


def client_for(name: str, connector: ServiceNowConnector, pipeline: ServiceNowPipeline) -> HttpClient:
    base = connector.instance_url.rstrip("/")
    return HttpClient.for_pipeline(name, base, connector.auth, pipeline, token_url=f"{base}/oauth_token.do",
                                   verify_tls=connector.verify_tls)


def query_fields(query: str) -> set[str]:
    """Field names an encoded query refers to (`^`, `^OR`, `^NQ` terms and ORDERBY clauses)."""
    names = set()
    for term in re.split(r"\^(?:NQ|OR(?!DERBY))?", query):
        match = _FIELD.match(term.strip())
        if match and not term.startswith(("RLQUERY", "ENDRLQUERY")):
            names.add(match.group(1))
    return names


class Dictionary:
    """A table's fields from sys_dictionary, walking sys_db_object.super_class (inherited fields live on the parent)."""

    def __init__(self, client: HttpClient) -> None:
        self.client = client
        self._tables: dict[str, dict[str, Any]] | None = None
        self._fields: dict[str, dict[str, str]] = {}
        self._types: dict[str, dict[str, str]] = {}  # table → element → internal_type, as read with its fields

    def tables(self) -> dict[str, dict[str, Any]]:
        if self._tables is None:
            rows = self.rows("sys_db_object", "name,label,super_class")
            by_id = {r["sys_id"]: r["name"] for r in rows}
            self._tables = {}
            for row in rows:
                parent = row.get("super_class")
                parent_id = parent.get("value") if isinstance(parent, dict) else parent
                self._tables[row["name"]] = {"label": row.get("label", ""), "parent": by_id.get(parent_id or "")}
        return self._tables

    def own_fields(self, table: str) -> dict[str, str]:
        """element → referenced table ('' when not a reference), for fields defined on `table` itself."""
        if table not in self._fields:
            rows = self.rows("sys_dictionary", "element,internal_type,reference", f"name={table}^elementISNOTEMPTY")
            self._fields[table] = {r["element"]: _ref_name(r.get("reference")) for r in rows}
            self._types[table] = {r["element"]: _ref_name(r.get("internal_type")) for r in rows}
        return self._fields[table]

    def family(self, table: str) -> list[str]:
        """The table and every table extending it (their deletes are audited under the child's name)."""
        children: dict[str, list[str]] = {}
        for name, info in self.tables().items():
            if info["parent"]:
                children.setdefault(info["parent"], []).append(name)
        family, todo = [], [table]
        while todo:
            current = todo.pop()
            family.append(current)
            todo.extend(children.get(current, []))
        return sorted(family)

    def lineage(self, table: str) -> list[str]:
        """The table, its parent, the parent's parent..."""
        chain: list[str] = []
        current: str | None = table
        while current and current not in chain:
            chain.append(current)
            current = self.tables().get(current, {}).get("parent")
        return chain

    def fields(self, table: str) -> dict[str, str]:
        merged: dict[str, str] = {}
        for current in self.lineage(table):
            merged = {**self.own_fields(current), **merged}
        return merged

    def field_types(self, table: str) -> dict[str, str]:
        """element → internal_type (string, reference, glide_date_time...), inherited fields included."""
        merged: dict[str, str] = {}
        for current in self.lineage(table):
            self.own_fields(current)
            merged = {**self._types[current], **merged}
        return merged

    def prefetch(self, tables: Iterable[str], pool: Executor) -> None:
        """Read the fields of these tables and of every table they extend at once: one round trip to the instance,
        not one per table."""
        wanted = {t for table in tables for t in self.lineage(table)} - set(self._fields)
        for _ in pool.map(self.own_fields, sorted(wanted)):
            pass

    def rows(self, table: str, fields: str, query: str = "") -> list[Record]:
        """Every row of a small table, in sys_id order."""
        rows: list[Record] = []
        offset = 0
        while True:
            response = self.client.get(TABLE_API + table, {
                "sysparm_query": query + ("^" if query else "") + "ORDERBYsys_id", "sysparm_fields": f"sys_id,{fields}",
                "sysparm_limit": 1000, "sysparm_offset": offset, "sysparm_exclude_reference_link": "true"})
            rows.extend(json_of(response)["result"])
            if not _has_next(response):
                return rows
            offset += 1000


def _ref_name(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("value") or value.get("display_value") or "")
    return str(value or "")


def _has_next(response: httpx.Response) -> bool:
    return 'rel="next"' in response.headers.get("link", "")


@dataclass
class TableStream(KeysetStream[str, _Offset]):
    """One ServiceNow table as a stream of records in (sys_updated_on, sys_id) order: a keyset query restarted after
    every page; the offset only steps over rows ACLs hid (the limit applies before ACLs), and the batch adapts."""

    client: HttpClient
    connector: str
    spec: TableSpec
    batch_size: int
    fields: list[str] | None  # None: all fields
    name: str = ""
    dataset: str = ""
    primary_key: str = KEY
    cursor_field: str = CURSOR
    all_fields: list[str] | None = None  # from the dictionary, when readable (to drop free text on oversize)
    references: dict[str, str] | None = None  # reference field → target table; None: no readable dictionary
    omit: tuple[str, ...] = DEFAULT_OMIT
    encode: bool = True  # with a dictionary, pages come as encoded records (see `_decode`), not parsed ones
    adaptive = True

    def __post_init__(self) -> None:
        self.name = self.spec.name
        self.dataset = dataset_of(self.connector, self.spec.name)
        self.omit = tuple(self.spec.omit_on_oversize) or DEFAULT_OMIT
        self._targets = tuple((name, dataset_of(self.connector, table))
                              for name, table in (self.references or {}).items())
        self._decoder: Callable[[bytes], Any] = orjson.loads
        if self.references is not None and self.encode:
            # the key, the cursor and the reference fields are all a row's JSON is read for
            names = [self.primary_key, self.cursor_field, *self.references]
            slots = [f"f{i}" for i in range(len(names))]
            keys: Any = msgspec.defstruct("Keys", [(slot, str) for slot in slots[:2]] + [
                (slot, str | None, None) for slot in slots[2:]], rename=dict(zip(slots, names, strict=True)))
            self._keys: Callable[[bytes], Any] = msgspec.json.Decoder(
                msgspec.defstruct("KeysPage", [("result", list[keys])])).decode
            self._values = operator.attrgetter(*slots)
            self._decoder = self._decode

    def query(self, window: Window, after: Position | None) -> str:
        base, cursor = f"{self.spec.filter}^" if self.spec.filter else "", self.cursor_field
        start, end = snow_time(parse_time(after.cursor) if after else EPOCH), snow_time(window.end)
        if after is None or not after.pk:
            clause = f"{base}{cursor}>={start}^{cursor}<{end}"
        else:  # strictly after (start, pk): later seconds, or the same second with a greater sys_id
            clause = (f"{base}{cursor}>{start}^{cursor}<{end}"
                      f"^NQ{base}{cursor}={start}^{KEY}>{after.pk}^{cursor}<{end}")
        return f"{clause}^ORDERBY{cursor}^ORDERBY{KEY}"

    def _params(self, query: str, limit: int, offset: int, fields: list[str] | None) -> dict[str, Any]:
        # Reference fields come as plain sys_ids when the dictionary names their tables; the link objects would add
        # a third to every record's bytes and say nothing the dictionary does not.
        params: dict[str, Any] = {"sysparm_query": query, "sysparm_limit": limit, "sysparm_offset": offset,
                                  "sysparm_display_value": "false",
                                  "sysparm_exclude_reference_link": str(self.references is not None).lower()}
        if fields is not None:
            params["sysparm_fields"] = ",".join(fields)
        return params

    def fetch(self, query: str, continuation: _Offset | None, limit: int) -> Batch[_Offset]:
        offset, total = continuation or (0, None)
        response = self.client.get(TABLE_API + self.spec.name, self._params(query, limit, offset, self.fields),
                                   shrinkable=True, decode=self._decoder)
        count = response.headers.get("x-total-count")
        if offset and count != total:
            # Rows joined or left the result set while we stepped over hidden ones: offsets shifted under us.
            # Start again from the keyset (still exact) rather than risk skipping a row.
            return Batch([], None, restart=True)
        return Batch(json_of(response)["result"], (offset + limit, count) if _has_next(response) else None)

    def position_of(self, row: Any) -> Position:
        if isinstance(row, tuple):  # an encoded record: key, cursor, ...
            return Position(row[1], row[0])
        return Position(self.cursor_of(row), row[KEY])

    def isolate(self, query: str, continuation: _Offset | None, error: HttpError) -> tuple[Page, _Offset | None]:
        offset, total = continuation or (0, None)
        return self._isolate(query, offset, error), (offset + 1, total)

    def _isolate(self, query: str, offset: int, error: HttpError) -> Page:
        """A single record fails: fetch it without its large free-text fields, else quarantine it by key."""
        known = self.fields if self.fields is not None else self.all_fields
        if known:
            try:
                rows = self.client.get_json(TABLE_API + self.spec.name, self._params(
                    query, 1, offset, [f for f in known if f not in self.omit]), shrinkable=True)["result"]
            except HttpError as exc:
                if not exc.batch_sensitive:
                    raise
            else:
                if not rows:
                    return Page(position=None)
                row = rows[0]
                reason = f"stored without {', '.join(self.omit)}: the full record fails with {error.message}"
                return self.page([row], Position(self.cursor_of(row), row[KEY]), [(row[KEY], reason)])
        keys = self.client.get_json(TABLE_API + self.spec.name,
                                    self._params(query, 1, offset, [KEY, self.cursor_field]))["result"]
        if not keys:
            return Page(position=None)
        row = keys[0]
        reason = f"quarantined: fails even without {', '.join(self.omit)} ({error.message})"
        return Page(position=Position(self.cursor_of(row), row[KEY]), quarantined=[(row[KEY], reason)])

    def _decode(self, body: bytes) -> Any:
        """The answer with its rows as encoded records: key, cursor and links read, each row's JSON text kept as the
        source sent it, which spares a full parse and a serialisation per row. An answer of another shape is parsed
        whole, for the general path to deal with; one that is not JSON raises ValueError."""
        body.decode()  # msgspec skips unread text without checking its UTF-8: broken text would be stored broken
        try:
            rows, keys = _RESULT.decode(body).result, self._keys(body).result
        except msgspec.ValidationError:
            return orjson.loads(body)
        except msgspec.DecodeError as exc:
            raise ValueError(str(exc)) from exc
        targets, encoded = self._targets, []
        for raw, (pk, cursor, *references) in zip(rows, map(self._values, keys), strict=True):
            links = [(name, target, key) for (name, target), key in zip(targets, references, strict=True) if key]
            encoded.append((pk, cursor_str(cursor), bytes(raw), orjson.dumps(links).decode() if links else None))
        return {"result": encoded}

    def page(self, rows: list[Any], position: Position, quarantined: list[tuple[str, str]] | None = None) -> Page:
        """A page of rows (records, or encoded records from `_decode`) and their graph links: by the dictionary's
        targets, or else by each reference's link."""
        if rows and isinstance(rows[0], tuple):
            return Page(encoded=rows, position=position, quarantined=quarantined or [])
        if self.references is not None:
            return Page(records=rows, links_of=self._links_of, position=position, quarantined=quarantined or [])
        return Page(records=rows, links=self._linked(rows), position=position, quarantined=quarantined or [])

    def _links_of(self, row: Record) -> list[tuple[str, str, str]]:
        """A row's references as graph links, to the tables the dictionary names."""
        return [(name, target, value) for name, target in self._targets if (value := row.get(name))]

    def _linked(self, rows: list[Record]) -> dict[str, list[tuple[str, str, str]]]:
        """Without a dictionary, each reference's link names its table; the link is then dropped, so reference
        fields are stored as plain sys_ids either way."""
        links = {}
        for row in rows:
            own = []
            for name, value in row.items():
                if value.__class__ is dict and "link" in value:
                    row[name] = key = value.get("value") or ""
                    table = str(value["link"]).partition(TABLE_API)[2].split("/", 1)[0]
                    if key and table:
                        own.append((name, dataset_of(self.connector, table), key))
            if own:
                links[row[KEY]] = own
        return links


@dataclass
class DeleteStream:
    """Deletions of one table, read from sys_audit_delete, as tombstones for the table's dataset. The audit table is
    paged like any other (keyset, ACL gaps, adaptive batch): each audit row becomes a tombstone."""

    client: HttpClient
    connector: str
    table: str
    batch_size: int
    classes: list[str]  # the table and its descendants: sys_audit_delete names the record's own class
    name: str = ""
    dataset: str = ""
    primary_key: str = KEY
    cursor_field: str = "sys_created_on"

    def __post_init__(self) -> None:
        self.name = f"{self.table}.deletes"
        self.dataset = dataset_of(self.connector, self.table)
        fields = [KEY, "documentkey", self.cursor_field]
        spec = TableSpec(name="sys_audit_delete", fields=fields, filter=f"tablenameIN{','.join(self.classes)}")
        self._audit = TableStream(self.client, self.connector, spec, self.batch_size, fields,
                                  cursor_field=self.cursor_field, references={}, encode=False)

    def cursor_of(self, record: Record) -> str:
        return cursor_str(record[self.cursor_field])

    def read(self, window: Window, resume: Position | None) -> Iterator[Page]:
        for page in self._audit.read(window, resume):
            yield Page(tombstones=[(r["documentkey"], self.cursor_of(r)) for r in page.records],
                       position=page.position, quarantined=page.quarantined)


class ServiceNowSource:
    def __init__(self, name: str, connector: ServiceNowConnector, pipeline: ServiceNowPipeline) -> None:
        self.name, self.connector, self.pipeline = name, connector, pipeline
        self.client = client_for(name, connector, pipeline)
        self.dictionary = Dictionary(self.client)
        self.notes: list[str] = []

    def streams(self) -> list[Stream]:
        """Table streams plus their delete streams, after checking names, fields and filters against the instance."""
        specs = self.pipeline.tables  # never empty, nor a name ServiceNow cannot have: the config checks
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="udc-discovery") as pool:
            deletes_visible = pool.submit(self._deletes_visible)
            tables = self.dictionary.tables()
            if tables:
                self.dictionary.prefetch([spec.name for spec in specs if spec.name in tables], pool)
            streams = self._streams(specs, tables)
            if not deletes_visible.result():
                # an empty answer is all an account without read access gets too: say both, not "none visible"
                self.notes.append("sys_audit_delete lists no deletions yet; if records were deleted, this account "
                                  "cannot read it: grant read on sys_audit_delete so deletes become tombstones")
        if not tables:
            self.notes.append("field names in fields/filter were not checked: the account cannot read "
                              "sys_db_object/sys_dictionary (grant read on them so typos are caught before a sync)")
        return streams

    def _deletes_visible(self) -> bool:
        return bool(self.client.get_json(TABLE_API + "sys_audit_delete", {"sysparm_limit": 1,
                                                                          "sysparm_fields": "sys_id"})["result"])

    def _streams(self, specs: list[TableSpec], tables: dict[str, dict[str, Any]]) -> list[Stream]:
        streams: list[Stream] = []
        for spec in specs:
            if tables and spec.name not in tables:
                close = [t for t in tables if t.startswith(spec.name[:4])][:5]
                raise ConfigError(f"table '{spec.name}' does not exist on {self.connector.instance_url} "
                                  "(or the account cannot see it in sys_db_object)",
                                  f"check the name{'; similar: ' + ', '.join(close) if close else ''}")
            known = self.dictionary.fields(spec.name) if tables else {}
            fields = self._fields(spec, known)
            references = {f: target for f, target in known.items()
                          if target and (fields is None or f in fields)} if tables else None
            streams.append(TableStream(self.client, self.name, spec, self.pipeline.batch_size, fields,
                                       all_fields=sorted(known) or None, references=references))
            family = self.dictionary.family(spec.name) if tables else [spec.name]
            streams.append(DeleteStream(self.client, self.name, spec.name, self.pipeline.batch_size, family))
        return streams

    def _fields(self, spec: TableSpec, known: dict[str, str]) -> list[str] | None:
        wanted = list(spec.fields) if spec.fields else None
        if wanted is None and spec.exclude_fields:
            wanted = sorted(set(known) - set(spec.exclude_fields)) if known else None
            if wanted is None:
                raise ConfigError(f"{spec.name}: exclude_fields needs the table's field list, but sys_dictionary "
                                  "is not readable", "list the wanted `fields:` explicitly instead")
        referenced = set(wanted or []) | query_fields(spec.filter or "")
        if known:
            for name in sorted(referenced):
                self._check_field(spec.name, name, known, in_filter=name in query_fields(spec.filter or ""))
        if wanted is not None:
            wanted = [f for f in wanted if f not in spec.exclude_fields]
            wanted += [f for f in (KEY, CURSOR) if f not in wanted]  # the keyset needs both
        return wanted

    def _check_field(self, table: str, path: str, known: dict[str, str], in_filter: bool) -> None:
        current, fields = table, known
        for depth, part in enumerate(path.split(".")):
            if part not in fields and part not in (KEY,):
                where = "filter" if in_filter else "fields"
                guess = difflib.get_close_matches(part, list(fields), n=1)
                hint = f"did you mean '{guess[0]}'?" if guess else f"run `udc discover --connector {self.name}`"
                raise ConfigError(
                    f"{table}: {where} names '{path}', but '{part}' is not a field of {current} "
                    "(ServiceNow silently ignores unknown fields, so this typo would sync the whole table)", hint)
            target = fields.get(part, "")
            if depth < len(path.split(".")) - 1:
                if not target:
                    raise ConfigError(f"{table}: '{path}' dot-walks through '{part}', which is not a reference field",
                                      "dot-walk only through reference fields, e.g. assigned_to.email")
                current, fields = target, self.dictionary.fields(target)

    def people(self) -> Iterator[Person]:
        """sys_user as the redactor's directory: names, logins, e-mails and phones (read, never stored as read).
        A web-service-only user is an integration account, not a person."""
        try:
            rows = self.dictionary.rows("sys_user", DIRECTORY_FIELDS)
        except HttpError as exc:
            if exc.status not in (401, 403, 404):
                raise
            rows, refused = [], f"HTTP {exc.status}"
        else:
            refused = "no rows: without a read ACL ServiceNow answers with none"
        if not rows:
            raise DirectoryUnreadable(
                f"{self.name}: sys_user is not readable ({refused}), so redaction cannot learn the instance's "
                "people; names are then found only in people fields, journal headers and by stream 2",
                "grant this account read on sys_user (name, first_name, last_name, user_name, email, phone, "
                "mobile_phone, web_service_access_only)")
        for row in rows:
            yield Person(name=str(row.get("name") or ""), first=str(row.get("first_name") or ""),
                         last=str(row.get("last_name") or ""), user_name=str(row.get("user_name") or ""),
                         email=str(row.get("email") or ""),
                         phones=tuple(str(p) for p in (row.get("phone"), row.get("mobile_phone")) if p),
                         machine=str(row.get("web_service_access_only") or "").lower() == "true")

    @property
    def stats(self) -> CallStats:
        return self.client.stats

    def close(self) -> None:
        self.client.close()


DIRECTORY_FIELDS = "name,first_name,last_name,user_name,email,phone,mobile_phone,web_service_access_only"


def discover(name: str, connector: ServiceNowConnector, pipeline: ServiceNowPipeline, table: str | None
             ) -> dict[str, dict[str, str]]:
    client = client_for(name, connector, pipeline)
    try:
        dictionary = Dictionary(client)
        tables = dictionary.tables()
        if table is not None:
            if table not in tables:
                raise ConfigError(f"table '{table}' is not visible on {connector.instance_url}",
                                  f"run `udc discover --connector {name}` to list the tables")
            return {table: dict(sorted(dictionary.field_types(table).items()))}
        return {t: {} for t in sorted(tables)}
    finally:
        client.close()
