"""Source registry: a connector `type` names the module that builds its Source."""

from __future__ import annotations

import importlib
from typing import Protocol

from udc.config import Config
from udc.sources.base import Source

MODULES = {
    "servicenow": "udc.sources.servicenow",
    "jira": "udc.sources.jira",
    "salesforce": "udc.sources.salesforce",
}


class _Builder(Protocol):
    def build(self, config: Config, pipeline: str) -> Source: ...


def build_source(config: Config, pipeline: str) -> Source:
    """The Source for one pipeline, bound to its connector's settings."""
    connector_type = config.connector(config.pipeline(pipeline).connector).type
    module: _Builder = importlib.import_module(MODULES[connector_type])
    return module.build(config, pipeline)
