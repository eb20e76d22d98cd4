"""ServiceNow's connector and pipeline options."""

from __future__ import annotations

from typing import Literal

from udc.config.common import ConnectorBase, Pipeline


class ServiceNowConnector(ConnectorBase):
    type: Literal["servicenow"]
    instance_url: str


class ServiceNowPipeline(Pipeline):
    type: Literal["servicenow"] = "servicenow"
