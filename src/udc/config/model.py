"""The whole configuration: every source type's connector and pipeline models assembled into one `Config`.

A new source type adds its module (its connector model and its pipeline model) and one line to `SOURCES`; the
unions, the per-type options and the loader's key lists all derive from that tuple.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, get_args
from urllib.parse import parse_qsl, urlsplit

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic.json_schema import GenerateJsonSchema

from udc import secrets
from udc.config.common import (
    DEFAULT_STORE,
    POSTGRES,
    SQLITE,
    ConnectorBase,
    Model,
    Pipeline,
    compact_duration,
    split_store_url,
)
from udc.config.confluence import ConfluenceConnector, ConfluencePipeline
from udc.config.jira import JiraConnector, JiraPipeline
from udc.config.rest import RestConnector, RestPipeline
from udc.config.salesforce import SalesforceConnector, SalesforcePipeline
from udc.config.secret import Secret, deferred, resolve_secret
from udc.config.servicenow import ServiceNowConnector, ServiceNowPipeline
from udc.errors import ConfigError


def type_of(model: type[BaseModel]) -> str:
    """The `type` literal a connector or pipeline model is selected by."""
    (value,) = get_args(model.model_fields["type"].annotation)
    return str(value)


def input_keys(model: type[BaseModel]) -> set[str]:
    """The keys a model accepts in YAML: field names, or their aliases when a field has some."""
    keys: set[str] = set()
    for name, info in model.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            keys.update(choice for choice in alias.choices if isinstance(choice, str))
        else:
            keys.add(alias if isinstance(alias, str) else name)
    return keys


@dataclass(frozen=True)
class SourceModels:
    connector: type[ConnectorBase]
    options: type[Pipeline]

    @property
    def type(self) -> str:
        return type_of(self.connector)


SOURCES = (
    SourceModels(ServiceNowConnector, ServiceNowPipeline),
    SourceModels(JiraConnector, JiraPipeline),
    SourceModels(SalesforceConnector, SalesforcePipeline),
    SourceModels(ConfluenceConnector, ConfluencePipeline),
    SourceModels(RestConnector, RestPipeline),
)
MODELS = {source.type: source for source in SOURCES}

# options that only some source types understand: set on another, they would be silently ignored
SOURCE_OPTIONS: dict[str, tuple[str, ...]] = {
    key: tuple(s.type for s in SOURCES if key in input_keys(s.options))
    for key in sorted(set().union(*(input_keys(s.options) for s in SOURCES)) - input_keys(Pipeline))}

if TYPE_CHECKING:  # mypy cannot read a union built at run time: statically, a connector or pipeline is its base
    Connector = ConnectorBase
    PipelineOptions = Pipeline
else:
    Connector = Annotated[functools.reduce(operator.or_, (s.connector for s in SOURCES)), Field(discriminator="type")]
    PipelineOptions = Annotated[functools.reduce(operator.or_, (s.options for s in SOURCES)),
                                Field(discriminator="type")]


def _pipelines_without_type(schema: dict[str, Any]) -> None:
    """In the JSON Schema, a pipeline matches any type's model: users never write its `type` (the connector's is
    copied in), so editors must not need it to pick one, as `oneOf` with a discriminator would."""
    options = schema["properties"]["pipelines"]["additionalProperties"]
    options.pop("discriminator", None)
    options["anyOf"] = options.pop("oneOf")


class _Schema(GenerateJsonSchema):
    def encode_default(self, dft: Any) -> Any:
        return compact_duration(dft) if isinstance(dft, timedelta) else super().encode_default(dft)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of udc.yaml, every documented form accepted and defaults shown as written (`2m`)."""
    return Config.model_json_schema(schema_generator=_Schema)


class Config(Model):
    model_config = ConfigDict(json_schema_extra=_pipelines_without_type)

    store: str = DEFAULT_STORE
    store_password: Secret | None = None  # a PostgreSQL store's (env:NAME or file:/path); read when the store opens
    connectors: dict[str, Connector] = Field(default_factory=dict)
    pipelines: dict[str, PipelineOptions] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _pipeline_types(cls, data: Any) -> Any:
        """Each pipeline validates as its connector's source type: copy that type in. A pipeline naming no defined
        connector, or setting options of another type, is refused here, in words, before the union sees it."""
        if not isinstance(data, dict) or not isinstance(data.get("pipelines"), dict):
            return data
        connectors = data.get("connectors", {})
        if not isinstance(connectors, dict):  # its own error says so; naming no pipeline's connector would hide it
            return data
        pipelines = {name: _typed(name, p, connectors) if isinstance(p, dict) and isinstance(p.get("connector"), str)
                     else p for name, p in data["pipelines"].items()}
        return {**data, "pipelines": pipelines}

    @field_validator("store")
    @classmethod
    def _store_url(cls, url: str, info: ValidationInfo) -> str:
        if url.startswith(SQLITE):
            key = split_store_url(url)[1]  # a reference, read again when the store is opened
            if key and not deferred(info):
                resolve_secret(key)
            return url
        if url.startswith(POSTGRES):
            return _postgres_url(url)
        raise ValueError(f"not a store URL udc knows: use {SQLITE}path/to/udc.db (a relative path is relative to this "
                         "file's folder) or postgresql://user@host/database")

    def store_secret(self) -> str | None:
        """The store's password (`store_password`), for opening it."""
        if self.store_password is None:
            return None
        try:  # a command that defers secrets kept the reference: read it now, as every command that opens the store
            password = secrets.read_reference(self.store_password.get_secret_value())
        except ValueError as exc:
            raise ConfigError(f"store_password: {exc}", "set it, or fix `store_password:` in udc.yaml") from None
        secrets.register(password)
        return password

    @model_validator(mode="after")
    def _something_to_sync(self) -> Config:
        if not self.connectors:
            raise ValueError("no connectors are defined: add `connectors:` and `pipelines:` (see the README)")
        for name, pipeline in self.pipelines.items():
            if not pipeline.tables and pipeline.TABLES_NEEDED:
                raise ValueError(f"pipeline '{name}' lists nothing to sync: {pipeline.TABLES_NEEDED}")
        return self

    def pipeline(self, name: str) -> PipelineOptions:
        if name not in self.pipelines:
            raise ConfigError(f"no pipeline named '{name}'", f"pick one of: {', '.join(self.pipelines) or '(none)'}")
        return self.pipelines[name]

    def connector(self, name: str) -> Connector:
        if name not in self.connectors:
            raise ConfigError(f"no connector named '{name}'", f"pick one of: {', '.join(self.connectors) or '(none)'}")
        return self.connectors[name]


def _postgres_url(url: str) -> str:
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if parts.password is not None or "password" in params:
        raise ValueError("a password in the store URL would sit in this file: remove it and set `store_password: "
                         "env:NAME` (or file:/path; libpq's PGPASSWORD and ~/.pgpass work too)")
    try:
        parts.port  # noqa: B018  # reading it checks it
    except ValueError:
        raise ValueError(f"the port in {url} is not a number from 1 to 65535") from None
    if not parts.path.strip("/"):
        raise ValueError("the store URL names no database: write postgresql://user@host/database")
    if "schema" in params and not params["schema"].strip():
        raise ValueError("`schema=` in the store URL is empty: name a schema, or leave it out (public)")
    return url


def _typed(name: str, pipeline: dict[str, Any], connectors: dict[str, Any]) -> dict[str, Any]:
    ref = pipeline["connector"]
    if ref not in connectors:
        known = ", ".join(connectors) or "none defined"
        raise ValueError(f"pipeline '{name}' uses connector '{ref}', which is not defined (known: {known})")
    connector = connectors[ref]
    kind = connector.get("type") if isinstance(connector, dict) else getattr(connector, "type", None)
    if kind not in MODELS:  # the connector's own error names the valid types
        return pipeline
    if pipeline.get("type", kind) != kind:
        raise ValueError(f"pipeline '{name}' sets type {pipeline['type']!r}, but its connector '{ref}' is {kind}; "
                         "remove `type:` (a pipeline takes its connector's type)")
    own = input_keys(MODELS[kind].options)
    foreign = sorted(key for key in pipeline if key in SOURCE_OPTIONS and key not in own)
    if foreign:
        owners = ", ".join(f"{key} ({', '.join(SOURCE_OPTIONS[key])})" for key in foreign)
        raise ValueError(f"pipeline '{name}' sets options of another source type for its {kind} connector: "
                         f"{owners}; remove them" + (f"; {kind} pipelines list `tables:`" if "objects" in foreign
                                                     else ""))
    return {**pipeline, "type": kind}
