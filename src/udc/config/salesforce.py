"""Salesforce's connector and pipeline options."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import AliasChoices, ConfigDict, Field, field_validator, model_validator

from udc.config.common import ClientCredentialsAuth, ConnectorBase, Float, Int, Pipeline, TableSpec, Url


class SalesforceConnector(ConnectorBase):
    type: Literal["salesforce"]
    instance_url: Url
    api_version: str = "61.0"

    @field_validator("api_version")
    @classmethod
    def _api_version(cls, version: str) -> str:
        if not re.fullmatch(r"\d{2,3}\.\d", version.lstrip("vV")):
            raise ValueError(f"'{version}' is not a Salesforce API version: write it like 61.0")
        return version

    @model_validator(mode="after")
    def _client_credentials(self) -> SalesforceConnector:
        if not isinstance(self.auth, ClientCredentialsAuth):
            raise ValueError("Salesforce uses auth type oauth_client_credentials: set auth: {type: oauth_client_"
                             "credentials, client_id: env:SF_CLIENT_ID, client_secret: env:SF_CLIENT_SECRET}")
        return self

    @field_validator("instance_url")
    @classmethod
    def _my_domain(cls, url: str) -> str:
        host = re.sub(r"^https?://", "", url).split("/")[0].split(":")[0].lower()
        if host in ("login.salesforce.com", "test.salesforce.com"):
            raise ValueError(
                "the Client Credentials flow must use your My Domain URL (https://<my_domain>.my.salesforce.com); "
                "Salesforce rejects client-credentials requests sent to the generic login endpoints"
            )
        return url.rstrip("/")


# Salesforce API names: a letter first, letters/digits/single underscores, no trailing underscore; an optional
# managed-package namespace prefix (`ns__`) and an optional suffix (`__c` custom, `__r` relationship, `__mdt`...).
_BASE = r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*"
_IDENT = re.compile(rf"^(?:[A-Za-z][A-Za-z0-9]{{0,14}}__)?{_BASE}(?:__[A-Za-z]{{1,16}})?$")


def valid_identifier(name: str) -> bool:
    return bool(_IDENT.match(name))


def valid_field_path(path: str) -> bool:
    return all(valid_identifier(part) for part in path.split("."))


def _objects_too(schema: dict[str, Any]) -> None:
    """`objects:` is in the JSON Schema too: the same list as `tables:`."""
    schema["properties"]["objects"] = schema["properties"]["tables"]


class SalesforcePipeline(Pipeline):
    model_config = ConfigDict(json_schema_extra=_objects_too)

    TABLES_NEEDED = "add `objects:` (or `tables:`), e.g. objects: [Case, Account]"

    type: Literal["salesforce"] = "salesforce"
    # Salesforce calls its tables objects: either key names the one list
    tables: list[TableSpec] = Field(default_factory=list, validation_alias=AliasChoices("tables", "objects"))
    cursor_field: str | None = None
    query_limit: Int = 50
    max_api_share: Float = Field(0.8, gt=0, le=1)  # stop before this share of the daily API quota is used

    @model_validator(mode="before")
    @classmethod
    def _one_list(cls, value: Any) -> Any:
        if isinstance(value, dict) and "tables" in value and "objects" in value:
            raise ValueError("`objects:` and `tables:` are two names for the same list; keep one of them")
        return value

    @field_validator("tables")
    @classmethod
    def _api_names(cls, tables: list[TableSpec]) -> list[TableSpec]:
        for spec in tables:  # every name is checked before the first request
            if not valid_identifier(spec.name):
                raise ValueError(f"'{spec.name}' is not a valid Salesforce object API name: use the exact API name: "
                                 "letters, digits and single underscores, custom objects end in __c, managed-package "
                                 "objects look like ns__Object__c")
            for path in [*(spec.fields or []), *spec.exclude_fields]:
                if not valid_field_path(path):
                    raise ValueError(f"{spec.name}: '{path}' is not a supported Salesforce field name: use "
                                     "Salesforce identifier formats: Subject, Custom_Field__c, ns__Field__c, or a "
                                     "relationship path such as Account.Name")
        return tables

    @field_validator("cursor_field")
    @classmethod
    def _cursor_name(cls, cursor: str | None) -> str | None:
        if cursor is not None and not valid_identifier(cursor):
            raise ValueError(f"'{cursor}' is not a valid Salesforce field name: use LastModifiedDate (the default) "
                             "or SystemModstamp")
        return cursor

    @field_validator("query_limit")
    @classmethod
    def _query_limit(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("Query limit cannot be set to 0: set the maximum number of queries per run (default 50)")
        return value
