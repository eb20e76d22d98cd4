"""Jira's connector and pipeline options."""

from __future__ import annotations

from typing import Literal

from udc.config.common import ConnectorBase, Pipeline


class JiraConnector(ConnectorBase):
    type: Literal["jira"]
    base_url: str
    deployment: Literal["cloud", "data_center"] = "cloud"


class JiraPipeline(Pipeline):
    type: Literal["jira"] = "jira"
    jql: str | None = None
    fields: list[str] | None = None  # issue fields for every table that has none of its own
    expand_changelog: bool = False
