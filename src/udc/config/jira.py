"""Jira's connector and pipeline options."""

from __future__ import annotations

from typing import Literal

from pydantic import field_validator

from udc.config.common import ConnectorBase, Pipeline, TableSpec, Url, known_tables

TABLES = ("issues", "comments", "issue_links", "projects")


class JiraConnector(ConnectorBase):
    type: Literal["jira"]
    base_url: Url
    deployment: Literal["cloud", "data_center"] = "cloud"


class JiraPipeline(Pipeline):
    type: Literal["jira"] = "jira"
    DEFAULT_TABLES = TABLES
    jql: str | None = None
    fields: list[str] | None = None  # issue fields for every table that has none of its own
    expand_changelog: bool = False

    @field_validator("tables")
    @classmethod
    def _jira_tables(cls, tables: list[TableSpec]) -> list[TableSpec]:
        return known_tables(tables, TABLES, "Jira")
