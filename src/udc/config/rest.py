"""The declarative REST source's options: any JSON API described in YAML — its auth, and per table the endpoint,
where the records are in the body, their key and cursor, how a window is asked for, and how pages follow.

Everything that can be checked without calling the API is checked here (so `udc config validate` finds it): a
cursor format that is neither a known kind nor a strptime format, a time zone that does not exist, a path that is
not dotted names, a `{parent.x}` placeholder without a parent, a parent that is not a table of the pipeline.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from udc.config.common import (
    BasicAuth,
    BearerAuth,
    ConnectorBase,
    Duration,
    Model,
    Pipeline,
    TableSpec,
    Url,
)
from udc.config.secret import deferred, resolve_secret

TIME_KINDS = ("iso8601", "epoch_s", "epoch_ms")
_DOTTED = re.compile(r"[A-Za-z_$@][\w$@-]*(\.[A-Za-z_$@0-9][\w$@-]*)*")
_PLACEHOLDER = re.compile(r"\$\{((?:env|file):[^}]*)\}")
_PARENT = re.compile(r"\{parent\.([^}]+)\}")
_WINDOW_PLACEHOLDER = re.compile(r"\{(start|end|after|after_key)\}")


def _templated_secret(value: Any, info: ValidationInfo) -> Any:
    """A secret given whole (`env:NAME`, `file:/path`, a literal) or inside a text: `Token token=${env:PD_TOKEN}`.
    Each `${...}` is resolved like a whole reference; the text with its values substituted is the secret."""
    if not isinstance(value, str) or "${" not in value:
        return value if deferred(info) else resolve_secret(value)
    refs = _PLACEHOLDER.findall(value)
    if not refs or _PLACEHOLDER.sub("", value).count("${"):
        raise ValueError("write a reference inside a text as ${env:NAME} or ${file:/path}")
    if deferred(info):
        return value
    return resolve_secret(_PLACEHOLDER.sub(lambda m: str(resolve_secret(m.group(1))), value))


TemplatedSecret = Annotated[SecretStr, BeforeValidator(_templated_secret)]


class NoAuth(Model):
    type: Literal["none"]


class ApiKeyAuth(Model):
    """A key sent in a header (`header: Authorization`) or a query parameter (`query: api_key`)."""

    type: Literal["api_key"]
    value: TemplatedSecret
    header: str | None = None
    query: str | None = None

    @model_validator(mode="after")
    def _one_place(self) -> ApiKeyAuth:
        if (self.header is None) == (self.query is None):
            raise ValueError("say where the key goes: header: <name> or query: <parameter> (one of them)")
        return self


class RestClientCredentials(Model):
    """OAuth 2 client credentials: a form POST to `token_url` (the one non-GET request udc sends)."""

    type: Literal["oauth_client_credentials"]
    token_url: Url
    client_id: TemplatedSecret
    client_secret: TemplatedSecret
    scope: str | None = None


RestAuth = Annotated[NoAuth | BasicAuth | BearerAuth | ApiKeyAuth | RestClientCredentials,
                     Field(discriminator="type")]


def _dotted(path: str, what: str) -> str:
    if path and not _DOTTED.fullmatch(path):
        raise ValueError(f"'{path}' is not a {what}: write dotted field names, e.g. data.items or meta.next_cursor")
    return path


Dotted = Annotated[str, BeforeValidator(lambda v: _dotted(v, "dotted path") if isinstance(v, str) else v)]


def time_format(value: str) -> str:
    """A cursor or window format: a known kind, or a strptime format (it must hold a % directive)."""
    if value in TIME_KINDS:
        return value
    if "%" not in value:
        raise ValueError(f"'{value}' is not a time format: use iso8601, epoch_s, epoch_ms or a strptime format such "
                         "as '%Y-%m-%d %H:%M:%S'")
    try:  # what udc writes with it must read back
        datetime.strptime(datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC).strftime(value), value)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a valid strptime format ({exc})") from None
    return value


def time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{value}': use an IANA name such as UTC, America/New_York or "
                         "Europe/Berlin") from None
    return value


class CursorSpec(Model):
    """The field that says when a record last changed, and how its values are written."""

    field: Dotted
    format: str = "iso8601"  # iso8601 | epoch_s | epoch_ms | a strptime format
    tz: str = "UTC"  # the zone of values written without an offset

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        return time_format(value)

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        return time_zone(value)


class WindowSpec(Model):
    """How the API is asked for records changed in [start, end): as parameters, or as `{start}`/`{end}` placeholders
    in `params` (and `{after}`/`{after_key}`, the position itself, for an API that takes a keyset). The start sent
    lies `overlap` before the position reached, so an API that filters with `>` or at second precision re-sends the
    boundary; what was already stored is de-duplicated by (key, cursor)."""

    start_param: str | None = None
    end_param: str | None = None
    format: str | None = None  # default: the cursor's format
    overlap: Duration = timedelta(seconds=1)

    @field_validator("format")
    @classmethod
    def _format(cls, value: str | None) -> str | None:
        return value if value is None else time_format(value)


class _Paging(Model):
    has_more: Dotted | None = None  # a body path: false ends the listing
    is_last: Dotted | None = None  # a body path: true ends the listing (an end_of_stream flag)
    limit_param: str | None = None  # gets batch_size


class OffsetPaginator(_Paging):
    """`offset` advanced by the rows received; without `has_more`/`is_last`/`total_path`, an empty page ends."""

    type: Literal["offset"]
    offset_param: str = "offset"
    limit_param: str | None = "limit"
    start: int = 0
    total_path: Dotted | None = None  # the result count: a listing ends at it, and a count that moves restarts it


class PagePaginator(_Paging):
    """`page` numbers from `start`; without `has_more`/`is_last`/`total_path`, an empty page ends."""

    type: Literal["page"]
    page_param: str = "page"
    start: int = 1
    total_path: Dotted | None = None


class CursorPaginator(_Paging):
    """A token from the body (`token_path`) sent back as `token_param`; no token (or `is_last`) ends."""

    type: Literal["cursor"]
    token_path: Dotted
    token_param: str


class NextUrlPaginator(_Paging):
    """The next page's URL in the body (`url_path`); none ends."""

    type: Literal["next_url"]
    url_path: Dotted


class LinkHeaderPaginator(_Paging):
    """RFC 8288 `Link: <…>; rel="next"` (GitHub, ServiceNow); none ends."""

    type: Literal["link_header"]


class NoPaginator(Model):
    type: Literal["none"]
    limit_param: str | None = None


Paginator = Annotated[OffsetPaginator | PagePaginator | CursorPaginator | NextUrlPaginator | LinkHeaderPaginator
                      | NoPaginator, Field(discriminator="type")]


class LinkSpec(Model):
    """A graph link from each record: the value at `field` is the key of a record of table `to`."""

    field: Dotted
    to: str
    rel: str | None = None  # default: the field


ParamValue = str | int | float | bool | list[str | int | float | bool]


class RestTable(TableSpec):
    """One endpoint. Records are read in windows of `cursor` (a table without a cursor is read whole each run)."""

    model_config = ConfigDict(json_schema_extra=None)

    path: str
    params: dict[str, ParamValue] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    records: Dotted = ""  # where the list is in the body; "" = the body is the list
    primary_key: Dotted | list[Dotted] = "id"
    cursor: CursorSpec | None = None
    order: Literal["cursor", "none"] = "none"  # cursor: the API returns records in ascending cursor order
    window: WindowSpec | None = None
    paginator: Paginator = Field(default_factory=lambda: NoPaginator(type="none"))
    parent: str | None = None
    links: list[LinkSpec] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _no_bare_name(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError(f"a REST table needs at least its path: write - {{name: {value}, path: /{value}}}")
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, path: str) -> str:
        if not path.startswith("/") and not path.startswith(("http://", "https://")):
            raise ValueError(f"'{path}' is not an endpoint path: start it with / (it is joined to base_url)")
        return path

    @field_validator("primary_key")
    @classmethod
    def _key(cls, key: str | list[str]) -> str | list[str]:
        if key == "" or key == []:
            raise ValueError("name the field(s) that identify a record, e.g. primary_key: id")
        return key

    @model_validator(mode="after")
    def _coherent(self) -> RestTable:
        if self.fields or self.exclude_fields or self.filter or self.omit_on_oversize:
            raise ValueError("REST tables take no fields, exclude_fields, filter or omit_on_oversize: choose what to "
                             "read with path and params")
        uses_window = any(_WINDOW_PLACEHOLDER.search(str(v)) for v in self.params.values())
        if self.window is not None and self.cursor is None:
            raise ValueError("window: needs a cursor: add cursor: {field: <updated field>, format: iso8601}")
        if uses_window and self.window is None:
            raise ValueError("params use {start}, {end}, {after} or {after_key}: add window: {format: ...} (or remove "
                             "the placeholders)")
        if self.order == "cursor" and self.cursor is None:
            raise ValueError("order: cursor needs a cursor: add cursor: {field: ..., format: ...}")
        if _PARENT.search(self.path) and self.parent is None:
            raise ValueError(f"path {self.path} uses {{parent.…}}: add parent: <the parent table's name>")
        if self.parent is not None and not _PARENT.search(self.path):
            raise ValueError(f"table has a parent but its path {self.path} names none of its fields: write it like "
                             "/incidents/{parent.id}/log_entries")
        return self

    @property
    def filters_start(self) -> bool:
        """Whether the API is asked for records from a start (a parameter or a `{start}` placeholder)."""
        return self.window is not None and (bool(self.window.start_param)
                                            or any(re.search(r"\{(start|after)\}", str(v))
                                                   for v in self.params.values()))

    @property
    def keys(self) -> list[str]:
        return [self.primary_key] if isinstance(self.primary_key, str) else list(self.primary_key)


class RestConnector(ConnectorBase):
    type: Literal["rest"]
    base_url: Url
    auth: RestAuth = Field(default_factory=lambda: NoAuth(type="none"))  # type: ignore[assignment]
    headers: dict[str, str] = Field(default_factory=dict)


class RestPipeline(Pipeline):
    type: Literal["rest"] = "rest"
    TABLES_NEEDED = "add `tables:`, each with its name and path, e.g. - {name: incidents, path: /incidents}"
    tables: list[RestTable] = Field(default_factory=list)  # type: ignore[assignment]

    @field_validator("tables")
    @classmethod
    def _parents(cls, tables: list[RestTable]) -> list[RestTable]:
        names = [t.name for t in tables]
        for table in tables:
            if table.parent is None:
                continue
            if table.parent not in names:
                raise ValueError(f"table '{table.name}': parent '{table.parent}' is not a table of this pipeline: "
                                 f"use one of {', '.join(n for n in names if n != table.name)}")
            parent = tables[names.index(table.parent)]
            if parent.parent is not None:
                raise ValueError(f"table '{table.name}': its parent '{parent.name}' has a parent itself; udc reads "
                                 "one level of child endpoints")
        return tables
