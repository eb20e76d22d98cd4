"""`udc.yaml` → typed, validated configuration. The one place that knows each option's default and bound.

`common` holds what every source type shares, `redaction` the redaction policy, one module per source type its
connector and pipeline options, `model` assembles them into `Config`, `loader` reads YAML into it.
"""

from udc.config.common import (
    DEFAULT_CONFIG,
    Auth,
    BasicAuth,
    BearerAuth,
    ClientCredentialsAuth,
    ConnectorBase,
    PasswordGrantAuth,
    Pipeline,
    TableSpec,
)
from udc.config.confluence import ConfluenceConnector, ConfluencePipeline
from udc.config.jira import JiraConnector, JiraPipeline
from udc.config.loader import load_config, parse_config
from udc.config.model import MODELS, SOURCES, Config, json_schema
from udc.config.redaction import FieldPolicy, RedactionConfig, TablePolicy
from udc.config.rest import RestConnector, RestPipeline, RestTable
from udc.config.salesforce import SalesforceConnector, SalesforcePipeline
from udc.config.servicenow import ServiceNowConnector, ServiceNowPipeline

__all__ = [
    "DEFAULT_CONFIG", "MODELS", "SOURCES", "Auth", "BasicAuth", "BearerAuth", "ClientCredentialsAuth", "Config",
    "ConfluenceConnector", "ConfluencePipeline",
    "ConnectorBase", "FieldPolicy", "JiraConnector", "JiraPipeline", "PasswordGrantAuth", "Pipeline",
    "RedactionConfig", "RestConnector", "RestPipeline", "RestTable", "SalesforceConnector", "SalesforcePipeline",
    "ServiceNowConnector",
    "ServiceNowPipeline", "TablePolicy", "TableSpec", "json_schema", "load_config", "parse_config",
]
