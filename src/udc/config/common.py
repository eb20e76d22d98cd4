"""What every source type's configuration shares: secrets, auth, the connector and pipeline bases, table specs."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from udc import secrets
from udc.config.redaction import RedactionConfig
from udc.timeutil import parse_duration, parse_time

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


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    token_url: str | None = None  # derived from the connector's URL when omitted
    scope: str | None = None


class PasswordGrantAuth(Model):
    """ServiceNow OAuth password grant against /oauth_token.do."""

    type: Literal["oauth_password"]
    client_id: Secret
    client_secret: Secret
    username: str
    password: Secret
    token_url: str | None = None


Auth = Annotated[BasicAuth | BearerAuth | ClientCredentialsAuth | PasswordGrantAuth, Field(discriminator="type")]


class ConnectorBase(Model):
    """What every connector has; each source type's module adds its `type` literal and its own keys."""

    type: str
    auth: Auth
    verify_tls: bool = True


class TableSpec(Model):
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


class Pipeline(Model):
    """The options every source type has; each source type's module subclasses it with its `type` and own keys."""

    type: str  # the connector's type, copied in by `Config` so the right subclass validates the pipeline
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
    redaction: RedactionConfig = Field(default_factory=RedactionConfig)

    @field_validator("frequency")
    @classmethod
    def _frequency_bounds(cls, value: timedelta) -> timedelta:
        if not MIN_FREQUENCY <= value <= MAX_FREQUENCY:
            raise ValueError("frequency must be between 1m and 24h (for example 2m, 15m, 1h)")
        return value

    @model_validator(mode="after")
    def _dates(self) -> Pipeline:
        if self.end_date is not None and self.mode == "incremental":
            raise ValueError("end_date is for historical mode only; remove it, or set mode: historical")
        if self.start_date and self.end_date and parse_time(self.end_date) <= parse_time(self.start_date):
            raise ValueError("end_date must be after start_date")
        return self
