"""`udc discover`: what a connector can see — tables/objects and their fields."""

from __future__ import annotations

import importlib

from udc.config import Config, Pipeline
from udc.sources import MODULES


def discover(config: Config, connector: str, table: str | None = None) -> dict[str, list[str]]:
    """Map of table → field names (fields only for `table` when given, to keep the listing short)."""
    cfg = config.connector(connector)
    module = importlib.import_module(MODULES[cfg.type])
    result: dict[str, list[str]] = module.discover(connector, cfg, Pipeline(connector=connector), table)
    return result
