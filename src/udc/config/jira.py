"""Jira's connector and pipeline options."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, WithJsonSchema, field_validator

from udc.config.common import ConnectorBase, Pipeline, TableSpec, Url, known_tables
from udc.timeutil import DURATION_PATTERN, parse_duration

TABLES = ("issues", "comments", "issue_links", "projects")


def _census_every(value: Any) -> Any:
    """`off` (YAML reads a bare off as false) or 0 turns the census off; else a duration such as 24h."""
    if value is False or (isinstance(value, str) and value.strip().lower() == "off"):
        return timedelta(0)
    if value is True:
        raise ValueError("true is not a duration; write how often, e.g. 24h, or off")
    if isinstance(value, str | int):
        try:
            return parse_duration(value)
        except ValueError:
            raise ValueError(f"'{value}' is not a duration; write how often the id census runs, e.g. 24h or 7d, "
                             "or off") from None
    return value


CensusEvery = Annotated[timedelta, BeforeValidator(_census_every),
                        WithJsonSchema({"anyOf": [{"type": "string", "pattern": DURATION_PATTERN},
                                                  {"type": "string", "enum": ["off"]}, {"type": "boolean"},
                                                  {"type": "integer", "minimum": 0}]})]


class JiraConnector(ConnectorBase):
    type: Literal["jira"]
    base_url: Url
    deployment: Literal["cloud", "data_center"] = "cloud"
    # how often an incremental cycle lists every issue id per project, to find deleted issues (search cannot show
    # them); 0 / off: never
    deletion_census: CensusEvery = timedelta(hours=24)

    @field_validator("deletion_census")
    @classmethod
    def _census_bounds(cls, value: timedelta) -> timedelta:
        if value and value < timedelta(minutes=1):
            raise ValueError("deletion_census below 1m would list every issue id on almost every cycle; use e.g. "
                             "24h, or off")
        return value


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
