"""Confluence's connector and pipeline options (Cloud and Server / Data Center)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from udc.config.common import ConnectorBase, Pipeline, TableSpec, Url, known_tables

TABLES = ("pages", "blogposts", "comments", "spaces")


class ConfluenceConnector(ConnectorBase):
    type: Literal["confluence"]
    base_url: Url  # Cloud: the site origin, without /wiki; Server / Data Center: the origin with its context path
    deployment: Literal["cloud", "server"] = "cloud"


class ConfluencePipeline(Pipeline):
    type: Literal["confluence"] = "confluence"
    DEFAULT_TABLES = ("pages",)
    space_keys: list[str] = Field(default_factory=list)  # required to sync (checked at build); discover lists all
    body_format: Literal["storage", "atlas_doc_format"] = "storage"
    on_missing_space: Literal["fail", "warn"] = "fail"

    @field_validator("tables")
    @classmethod
    def _confluence_tables(cls, tables: list[TableSpec]) -> list[TableSpec]:
        for spec in known_tables(tables, TABLES, "Confluence"):
            if spec.filter or spec.fields:
                raise ValueError(f"Confluence table '{spec.name}' takes no filter or fields: choose what to sync "
                                 "with space_keys and tables")
        return tables

    @field_validator("space_keys")
    @classmethod
    def _keys(cls, keys: list[str]) -> list[str]:
        return list(dict.fromkeys(k.strip() for k in keys if k.strip()))
