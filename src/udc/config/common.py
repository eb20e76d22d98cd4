"""What every source type's configuration shares: secrets, auth, the connector and pipeline bases, table specs."""

from __future__ import annotations

import difflib
import ipaddress
import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from udc.config.redaction import RedactionConfig, check_policy, redaction_key
from udc.config.secret import Secret, deferred
from udc.errors import ConfigError
from udc.timeutil import DURATION_PATTERN, parse_duration, parse_time

DEFAULT_CONFIG = "udc.yaml"
SQLITE = "sqlite:///"
POSTGRES = ("postgresql://", "postgres://")
DEFAULT_STORE = f"{SQLITE}udc.db"
MIN_FREQUENCY, MAX_FREQUENCY, DEFAULT_FREQUENCY = timedelta(minutes=1), timedelta(hours=24), timedelta(minutes=2)


def split_store_url(url: str) -> tuple[str, str | None]:
    """`sqlite:///path?key=env:NAME` → (`sqlite:///path`, `env:NAME`): the store's location and the reference to its
    encryption key (None: not encrypted). ValueError for any other query, or a key that is not a reference."""
    base, _, query = url.partition("?")
    if not query:
        return base, None
    name, _, ref = query.partition("=")
    if name != "key" or not ref:
        raise ValueError(f"'?{query}' is not a store option: the one option is ?key=env:NAME (encryption at rest)")
    if not ref.startswith(("env:", "file:")):
        raise ValueError("the store's key is written in the file: use ?key=env:NAME or ?key=file:/path")
    return base, ref


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _not_bool(value: Any) -> Any:
    # YAML's `true` is not a number, though pydantic takes it as 1 (`batch_size: true`: one-record pages)
    if isinstance(value, bool):
        raise ValueError(f"{str(value).lower()} is not a number")
    return value


Int = Annotated[int, BeforeValidator(_not_bool)]
Float = Annotated[float, BeforeValidator(_not_bool)]


def _web_address(url: str) -> str:
    parts = urlsplit(url)
    # reading `port` checks it too (ValueError when it is out of range)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.port == 0:
        raise ValueError("not a web address: write it like https://acme.example.com")
    if parts.username is not None or parts.password is not None:  # it would show in logs, errors and `udc check`
        raise ValueError("the URL holds a user name or password (https://user:pw@host): remove them from the URL and "
                         "put the credentials under auth:, with the secret as env:NAME or file:/path")
    return url


def loopback(url: str) -> bool:
    """Whether a URL's host is this machine (localhost, 127.0.0.0/8, ::1): the one place plain http is harmless."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":  # not *.localhost: a resolver may send those to DNS
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cleartext(url: str) -> bool:
    """A plain-http URL to another machine: credentials and records would cross the network in cleartext."""
    return url.lower().startswith("http://") and not loopback(url)


Url = Annotated[str, AfterValidator(_web_address)]


class BasicAuth(Model):
    type: Literal["basic"]
    username: str
    password: Secret


class BearerAuth(Model):
    """Bearer token or personal access token (Jira Data Center PAT)."""

    type: Literal["bearer"]
    token: Secret


class ClientCredentialsAuth(Model):
    type: Literal["oauth_client_credentials"]
    client_id: Secret
    client_secret: Secret
    token_url: Url | None = None  # derived from the connector's URL when omitted
    scope: str | None = None


class PasswordGrantAuth(Model):
    """ServiceNow OAuth password grant against /oauth_token.do."""

    type: Literal["oauth_password"]
    client_id: Secret
    client_secret: Secret
    username: str
    password: Secret
    token_url: Url | None = None


Auth = Annotated[BasicAuth | BearerAuth | ClientCredentialsAuth | PasswordGrantAuth, Field(discriminator="type")]


class ConnectorBase(Model):
    """What every connector has; each source type's module adds its `type` literal and its own keys."""

    URL_FIELDS: ClassVar[tuple[str, ...]] = ("instance_url", "base_url")

    type: str
    auth: Auth
    verify_tls: bool = True
    allow_insecure_http: bool = False  # a lab's plain-http source on another host: accepted, warned on every run

    def cleartext_urls(self) -> dict[str, str]:
        """The connector's plain-http URLs to another machine (its address, its token endpoint), by key."""
        urls = {name: getattr(self, name) for name in self.URL_FIELDS if hasattr(self, name)}
        urls["auth.token_url"] = getattr(self.auth, "token_url", None)
        return {name: url for name, url in urls.items() if isinstance(url, str) and cleartext(url)}

    @model_validator(mode="after")
    def _no_cleartext(self) -> ConnectorBase:
        """Basic credentials, tokens and every record would cross the network readable: refused unless the
        connector says this is a lab."""
        for name in self.cleartext_urls():
            if not self.allow_insecure_http:
                raise ValueError(f"{name} must start with https://: plain http:// sends the credentials and every "
                                 "record in cleartext (allowed only to localhost); use https://, or for a lab set "
                                 "allow_insecure_http: true on the connector (warned on every run)")
        return self


def _or_bare_name(schema: dict[str, Any]) -> None:
    """In the JSON Schema too, a table may be written as its bare name (`tables: [incident]`)."""
    spec = dict(schema)
    schema.clear()
    schema["anyOf"] = [{"type": "string"}, spec]


class TableSpec(Model):
    """A table, object or stream to sync; a bare name in YAML means all fields, no filter."""

    model_config = ConfigDict(json_schema_extra=_or_bare_name)

    name: str
    fields: list[str] | None = None  # None: all fields (ServiceNow) / standard fields (Salesforce) / defaults (Jira)
    exclude_fields: list[str] = Field(default_factory=list)
    filter: str | None = None
    omit_on_oversize: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        # every source's table and object names are plain ASCII identifiers: anything else is a typo (a Cyrillic o)
        if not _TABLE_NAME.fullmatch(name):
            raise ValueError("this cannot be a table name: use ASCII letters, digits and underscores, starting "
                             "with a letter")
        return name


_TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def known_tables(tables: list[TableSpec], known: tuple[str, ...], source: str) -> list[TableSpec]:
    """`tables`, when each is one of the tables a source type has (`known`); else what it may have meant."""
    for spec in tables:
        if spec.name not in known:
            guess = difflib.get_close_matches(spec.name, known, n=1)
            raise ValueError(f"'{spec.name}' is not a {source} table: "
                             + (f"did you mean '{guess[0]}'?" if guess else f"use one of {', '.join(known)}"))
    return tables


def _duration(value: Any) -> Any:
    return parse_duration(value) if isinstance(_not_bool(value), str | int) else value


def compact_duration(value: timedelta) -> str:
    """A duration as the config writes it: 2m, 30s, 6h, 1d."""
    seconds = int(value.total_seconds())
    unit, size = next((u, size) for u, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
                      if seconds % size == 0)
    return f"{seconds // size}{unit}"


# written as 30s, 2m, 6h, 1d or seconds, and so in the JSON Schema
Duration = Annotated[timedelta, BeforeValidator(_duration),
                     WithJsonSchema({"anyOf": [{"type": "string", "pattern": DURATION_PATTERN},
                                               {"type": "integer", "minimum": 0}]})]


class Pipeline(Model):
    """The options every source type has; each source type's module subclasses it with its `type` and own keys."""

    # how to fix a pipeline that lists no tables, for source types that have no default tables (`Config` checks it:
    # `udc discover` and `udc check` validate a bare pipeline of the type, tables or not)
    TABLES_NEEDED: ClassVar[str] = ""
    DEFAULT_TABLES: ClassVar[tuple[str, ...]] = ()  # what a type that has defaults syncs when a pipeline lists none

    type: str  # the connector's type, copied in by `Config` so the right subclass validates the pipeline
    connector: str
    mode: Literal["historical", "incremental"] = "historical"
    start_date: date | datetime | None = None
    end_date: date | datetime | None = None
    frequency: Duration = DEFAULT_FREQUENCY
    lag: Duration = timedelta(seconds=30)  # incremental reads up to now - lag (late commits at the source)
    batch_size: Int = Field(1000, gt=0, le=10000)
    max_calls_per_minute: Int | None = Field(None, gt=0)
    rate_limit: Int | None = Field(None, gt=0)  # requests per interval
    rate_limit_timeout_ms: Int = Field(1000, gt=0)  # the interval / wait when rate-limited
    request_timeout: Float = Field(60, gt=0, le=3600)
    max_retries: Int = Field(8, ge=0)  # per request
    retry_budget: Int = Field(200, ge=0)  # retries per run, after which the run stops checkpointed
    max_response_mb: Float | None = Field(None, gt=0)  # a bigger page counts as too large: the batch halves
    tables: list[TableSpec] = Field(default_factory=list)
    redaction: RedactionConfig = Field(default_factory=RedactionConfig)

    @property
    def synced_tables(self) -> list[TableSpec]:
        """The tables the pipeline syncs: those it lists, or its type's defaults."""
        return self.tables or [TableSpec(name=name) for name in self.DEFAULT_TABLES]

    @field_validator("frequency")
    @classmethod
    def _frequency_bounds(cls, value: timedelta) -> timedelta:
        if not MIN_FREQUENCY <= value <= MAX_FREQUENCY:
            raise ValueError("frequency must be between 1m and 24h (for example 2m, 15m, 1h)")
        return value

    @field_validator("tables")
    @classmethod
    def _tables(cls, tables: list[TableSpec]) -> list[TableSpec]:
        if not tables:
            raise ValueError("the list is empty: name at least one table")
        names = [t.name for t in tables]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} listed more than once: list each table once")
        return tables

    @model_validator(mode="after")
    def _redaction_policy(self, info: ValidationInfo) -> Pipeline:
        if not self.redaction.enabled:
            return self
        try:
            check_policy(self.redaction)
        except ConfigError as exc:  # pydantic reports only ValueErrors, with the pipeline's line
            raise ValueError(f"{exc.message}; {exc.hint}") from None
        if self.redaction.needs_key() and not deferred(info):
            redaction_key(self.redaction)
        return self

    @model_validator(mode="after")
    def _dates(self) -> Pipeline:
        if self.end_date is not None and self.mode == "incremental":
            raise ValueError("end_date is for historical mode only; remove it, or set mode: historical")
        if self.start_date and self.end_date and parse_time(self.end_date) <= parse_time(self.start_date):
            raise ValueError("end_date must be after start_date")
        return self
