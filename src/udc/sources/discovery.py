"""`udc discover`: what a connector can see — tables/objects and their fields."""

from __future__ import annotations

from udc.config import Config
from udc.sources import plugin


def discover(config: Config, connector: str, table: str | None = None) -> dict[str, dict[str, str]]:
    """Map of table → {field: type} (fields only for `table` when given, to keep the listing short)."""
    cfg = config.connector(connector)
    source = plugin(cfg.type)
    # a table a pipeline of this connector lists is discovered with that pipeline's options (a REST table is
    # declared there: its path, records path, paginator)
    options = next((p for p in config.pipelines.values() if p.connector == connector and table is not None
                    and table in source.tables(p)), None)
    if options is None and cfg.type == "rest":
        options = next((p for p in config.pipelines.values() if p.connector == connector), None)
    return source.discover(connector, cfg, options or source.default_options(connector), table)
