"""ServiceNow's connector and pipeline options."""

from __future__ import annotations

from typing import Literal

from udc.config.common import ConnectorBase, Pipeline, Url


class ServiceNowConnector(ConnectorBase):
    type: Literal["servicenow"]
    instance_url: Url


class ServiceNowPipeline(Pipeline):
    type: Literal["servicenow"] = "servicenow"
    TABLES_NEEDED = "add `tables:`, e.g. tables: [incident]"
