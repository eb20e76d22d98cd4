"""ServiceNow's connector and pipeline options."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator

from udc.config.common import ConnectorBase, Pipeline, TableSpec, Url

_TABLE_NAME = re.compile(r"[a-z0-9_]+")


class ServiceNowConnector(ConnectorBase):
    type: Literal["servicenow"]
    instance_url: Url


class ServiceNowPipeline(Pipeline):
    type: Literal["servicenow"] = "servicenow"
    TABLES_NEEDED = "add `tables:`, e.g. tables: [incident]"

    @field_validator("tables")
    @classmethod
    def _table_names(cls, tables: list[TableSpec]) -> list[TableSpec]:
        for spec in tables:
            if not _TABLE_NAME.fullmatch(spec.name):
                raise ValueError(f"'{spec.name}' is not a valid ServiceNow table name: table names are lower case, "
                                 "e.g. incident, cmdb_ci_server, u_my_table")
        return tables
