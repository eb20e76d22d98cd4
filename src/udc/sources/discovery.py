"""`udc discover`: what a connector can see — tables/objects and their fields."""

from __future__ import annotations

from udc.config import Config
from udc.sources import plugin


def discover(config: Config, connector: str, table: str | None = None) -> dict[str, dict[str, str]]:
    """Map of table → {field: type} (fields only for `table` when given, to keep the listing short)."""
    cfg = config.connector(connector)
    source = plugin(cfg.type)
    return source.discover(connector, cfg, source.default_options(connector), table)
