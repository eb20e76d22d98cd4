"""`udc.yaml` → typed, validated configuration. The one place that knows each option's default and bound."""

from __future__ import annotations

import difflib
import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from udc import secrets
from udc.errors import ConfigError
from udc.redact.policy import FieldPolicy, RedactionConfig, TablePolicy
from udc.timeutil import parse_duration

DEFAULT_CONFIG = "udc.yaml"
DEFAULT_STORE = "sqlite:///udc.db"
MIN_FREQUENCY, MAX_FREQUENCY, DEFAULT_FREQUENCY = timedelta(minutes=1), timedelta(hours=24), timedelta(minutes=2)


def resolve_secret(value: Any) -> Any:
    """`env:NAME` and `file:/path` references become their values; anything else is a literal secret."""
    if isinstance(value, SecretStr) or not isinstance(value, str):
        return value
    resolved = _read_secret(value)
    secrets.register(resolved)
    return resolved


def _read_secret(value: str) -> str:
    if value.startswith("env:"):
        name = value[4:]
        if name not in os.environ:
            raise ValueError(f"environment variable {name} is not set; export {name}=... before running udc")
        return os.environ[name]
    if value.startswith("file:"):
        path = Path(value[5:]).expanduser()
        try:
            return path.read_text().rstrip("\r\n")
        except OSError as exc:
            problem = f"cannot read secret file {path} ({exc.strerror}); check the path and permissions"
            raise ValueError(problem) from exc
    return value


Secret = Annotated[SecretStr, BeforeValidator(resolve_secret)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BasicAuth(_Model):
    type: Literal["basic"]
    username: str
    password: Secret


class BearerAuth(_Model):
    """Bearer token or personal access token (Jira Data Center PAT)."""

    type: Literal["bearer"]
    token: Secret


class ClientCredentialsAuth(_Model):
    type: Literal["oauth_client_credentials"]
    client_id: Secret
    client_secret: Secret
    token_url: str | None = None  # derived from the connector's URL when omitted
    scope: str | None = None


class PasswordGrantAuth(_Model):
    """ServiceNow OAuth password grant against /oauth_token.do."""

    type: Literal["oauth_password"]
    client_id: Secret
    client_secret: Secret
    username: str
    password: Secret
    token_url: str | None = None


Auth = Annotated[BasicAuth | BearerAuth | ClientCredentialsAuth | PasswordGrantAuth, Field(discriminator="type")]


class _Connector(_Model):
    auth: Auth
    verify_tls: bool = True


class ServiceNowConnector(_Connector):
    type: Literal["servicenow"]
    instance_url: str


class JiraConnector(_Connector):
    type: Literal["jira"]
    base_url: str
    deployment: Literal["cloud", "data_center"] = "cloud"


class SalesforceConnector(_Connector):
    type: Literal["salesforce"]
    instance_url: str
    api_version: str = "61.0"

    @field_validator("instance_url")
    @classmethod
    def _my_domain(cls, url: str) -> str:
        host = re.sub(r"^https?://", "", url).split("/")[0].split(":")[0].lower()
        if host in ("login.salesforce.com", "test.salesforce.com"):
            raise ValueError(
                "the Client Credentials flow must use your My Domain URL (https://<my_domain>.my.salesforce.com); "
                "Salesforce rejects client-credentials requests sent to the generic login endpoints"
            )
        if not url.startswith("https://") and host not in ("localhost", "127.0.0.1", "::1"):
            raise ValueError("instance_url must start with https:// (plain http is allowed only for localhost)")
        return url.rstrip("/")


Connector = Annotated[
    ServiceNowConnector | JiraConnector | SalesforceConnector, Field(discriminator="type")
]


class TableSpec(_Model):
    """A table, object or stream to sync; a bare name in YAML means all fields, no filter."""

    name: str
    fields: list[str] | None = None  # None: all fields (ServiceNow) / standard fields (Salesforce) / defaults (Jira)
    exclude_fields: list[str] = Field(default_factory=list)
    filter: str | None = None
    omit_on_oversize: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


def _duration(value: Any) -> Any:
    return parse_duration(value) if isinstance(value, str | int) and not isinstance(value, bool) else value


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class Pipeline(_Model):
    connector: str
    mode: Literal["historical", "incremental"] = "historical"
    start_date: date | datetime | None = None
    end_date: date | datetime | None = None
    frequency: Duration = DEFAULT_FREQUENCY
    lag: Duration = timedelta(seconds=30)  # incremental reads up to now - lag (late commits at the source)
    batch_size: int = Field(1000, gt=0, le=10000)
    max_calls_per_minute: int | None = Field(None, gt=0)
    rate_limit: int | None = Field(None, gt=0)  # requests per interval
    rate_limit_timeout_ms: int = Field(1000, gt=0)  # the interval / wait when rate-limited
    request_timeout: float = Field(60, gt=0, le=3600)
    max_retries: int = Field(8, ge=0)  # per request
    retry_budget: int = Field(200, ge=0)  # retries per run, after which the run stops checkpointed
    max_response_mb: float | None = Field(None, gt=0)  # a bigger page counts as too large: the batch halves
    tables: list[TableSpec] = Field(default_factory=list)
    objects: list[TableSpec] = Field(default_factory=list)  # Salesforce's name for tables
    # Jira
    jql: str | None = None
    fields: list[str] | None = None
    expand_changelog: bool = False
    # Salesforce
    cursor_field: str | None = None
    query_limit: int = 50
    max_api_share: float = Field(0.8, gt=0, le=1)  # stop before this share of the daily API quota is used
    redaction: RedactionConfig = Field(default_factory=RedactionConfig)

    @field_validator("frequency")
    @classmethod
    def _frequency_bounds(cls, value: timedelta) -> timedelta:
        if not MIN_FREQUENCY <= value <= MAX_FREQUENCY:
            raise ValueError("frequency must be between 1m and 24h (for example 2m, 15m, 1h)")
        return value

    @field_validator("query_limit")
    @classmethod
    def _query_limit(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("Query limit cannot be set to 0: set the maximum number of queries per run (default 50)")
        return value

    @model_validator(mode="after")
    def _dates(self) -> Pipeline:
        if self.end_date is not None and self.mode == "incremental":
            raise ValueError("end_date is for historical mode only; remove it, or set mode: historical")
        if self.start_date and self.end_date and _as_dt(self.end_date) <= _as_dt(self.start_date):
            raise ValueError("end_date must be after start_date")
        return self

    @property
    def streams(self) -> list[TableSpec]:
        return self.tables or self.objects


def _as_dt(value: date | datetime) -> datetime:
    from udc.timeutil import parse_time

    return parse_time(value)


# options that only one source type understands: set on another, they would be silently ignored
SOURCE_OPTIONS = {"jql": "jira", "fields": "jira", "expand_changelog": "jira", "objects": "salesforce",
                  "cursor_field": "salesforce", "query_limit": "salesforce", "max_api_share": "salesforce"}


class Config(_Model):
    store: str = DEFAULT_STORE
    connectors: dict[str, Connector] = Field(default_factory=dict)
    pipelines: dict[str, Pipeline] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> Config:
        for name, pipeline in self.pipelines.items():
            if pipeline.connector not in self.connectors:
                known = ", ".join(self.connectors) or "none defined"
                raise ValueError(
                    f"pipeline '{name}' uses connector '{pipeline.connector}', which is not defined (known: {known})")
            kind = self.connectors[pipeline.connector].type
            foreign = sorted(key for key in pipeline.model_fields_set if SOURCE_OPTIONS.get(key, kind) != kind)
            if foreign:
                owners = ", ".join(f"{key} ({SOURCE_OPTIONS[key]})" for key in foreign)
                raise ValueError(f"pipeline '{name}' sets options of another source type for its {kind} connector: "
                                 f"{owners}; remove them" + ("; ServiceNow and Jira list `tables:`" if
                                                             "objects" in foreign else ""))
        return self

    def pipeline(self, name: str) -> Pipeline:
        if name not in self.pipelines:
            raise ConfigError(f"no pipeline named '{name}'", f"pick one of: {', '.join(self.pipelines) or '(none)'}")
        return self.pipelines[name]

    def connector(self, name: str) -> Connector:
        if name not in self.connectors:
            raise ConfigError(f"no connector named '{name}'", f"pick one of: {', '.join(self.connectors) or '(none)'}")
        return self.connectors[name]


def _all_field_names() -> set[str]:
    names: set[str] = set()
    models: list[type[BaseModel]] = [Config, Pipeline, TableSpec, RedactionConfig, ServiceNowConnector, JiraConnector,
                                     SalesforceConnector, BasicAuth, BearerAuth,
                                     ClientCredentialsAuth, PasswordGrantAuth, FieldPolicy, TablePolicy]
    for model in models:
        names.update(model.model_fields)
    return names


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc`, for error messages."""
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        if node is None:
            return None
    return node.start_mark.line + 1 if node is not None else None


def _describe(error: Any, source: str, root: yaml.Node | None) -> str:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and (p.startswith("function-") or p in (
        "basic", "bearer", "oauth_client_credentials", "oauth_password", "servicenow", "jira",
        "salesforce"))))
    named = re.match(r"Value error, pipeline '([^']+)'", error["msg"])
    if not loc and named:  # a check across sections names its pipeline: point there
        loc = ("pipelines", named.group(1))
    path = ".".join(str(p) for p in loc) or "(top level)"
    line = _line_of(root, loc)
    where = f"{source}:{line}" if line else source
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        guess = difflib.get_close_matches(key, _all_field_names(), n=1)
        fix = f"did you mean '{guess[0]}'?" if guess else "remove it; see `udc config schema` for the valid keys"
        return f"{where}: unknown key '{path}'\n  fix: {fix}"
    if kind == "missing":
        return f"{where}: '{path}' is required\n  fix: add {loc[-1]}: <value>"
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return f"{where}: {path}: {msg}\n  fix: set `type:` to one of the names listed"
    text = msg.removeprefix("Value error, ")
    value = error.get("input")
    shown = "" if isinstance(value, dict | list) or value is None or "auth" in path else f" (got {value!r})"
    return f"{where}: {path}: {text}{shown}"


def load_config(path: str | Path = DEFAULT_CONFIG) -> Config:
    """Read and validate a config file; every problem raises ConfigError naming the file, key path and fix."""
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"config file {file} does not exist", "create it (see README) or pass --config FILE")
    text = file.read_text()
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else str(file)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}", "fix the indentation or quoting at that line") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: the top level must be a mapping", "start with `connectors:` and `pipelines:`")
    return parse_config(data, str(file), root)


def parse_config(data: dict[str, Any], source: str = "<config>", root: yaml.Node | None = None) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(e, source, root) for e in exc.errors(include_url=False)]
        raise ConfigError("invalid configuration:\n" + "\n".join(problems)) from None
