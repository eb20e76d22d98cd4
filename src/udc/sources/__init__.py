"""Source registry: one plugin per connector `type`, wiring its configuration models to its build, discover, check."""

from __future__ import annotations

from typing import Any

from udc.config import (
    Config,
    ConfluenceConnector,
    ConfluencePipeline,
    JiraConnector,
    JiraPipeline,
    RestConnector,
    RestPipeline,
    SalesforceConnector,
    SalesforcePipeline,
    ServiceNowConnector,
    ServiceNowPipeline,
)
from udc.sources import confluence, jira, rest, salesforce, servicenow, servicenow_check
from udc.sources.base import Source
from udc.sources.plugin import SourcePlugin

PLUGINS: dict[str, SourcePlugin[Any, Any]] = {entry.type: entry for entry in (
    SourcePlugin(ServiceNowConnector, ServiceNowPipeline, servicenow.build, servicenow.discover, servicenow_check.run,
                 servicenow.KEY),
    SourcePlugin(JiraConnector, JiraPipeline, jira.build, jira.discover, jira.check, jira.KEY),
    SourcePlugin(SalesforceConnector, SalesforcePipeline, salesforce.build, salesforce.discover, salesforce.check,
                 salesforce.KEY),
    SourcePlugin(ConfluenceConnector, ConfluencePipeline, confluence.build, confluence.discover, confluence.check,
                 confluence.KEY),
    SourcePlugin(RestConnector, RestPipeline, rest.build, rest.discover, rest.check, rest.KEY),
)}


def plugin(connector_type: str) -> SourcePlugin[Any, Any]:
    """The plugin for a connector type (`Config` admits only the types in `udc.config.SOURCES`)."""
    return PLUGINS[connector_type]


def build_source(config: Config, pipeline: str) -> Source:
    """The Source for one pipeline, bound to its connector's settings."""
    return plugin(config.connector(config.pipeline(pipeline).connector).type).build(config, pipeline)
