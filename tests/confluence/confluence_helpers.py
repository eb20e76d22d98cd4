"""Helpers for the Confluence tests: the official Cloud v2 OpenAPI spec as a request/response validator, configs,
and reading a stream."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from openapi_check import OpenApi, load_spec
from stores import Backend
from udc.config import Config, parse_config
from udc.records import Position, Record, Window
from udc.simulators.confluence import ConfluenceSim
from udc.sources.confluence import ConfluenceSource, build


@cache
def official_openapi() -> OpenApi:
    """Atlassian's official Confluence Cloud v2 spec (Apache 2.0); its paths leave out the server's `/wiki/api/v2`,
    and v1 (CQL) has no spec here."""
    return OpenApi(load_spec("confluence-cloud-v2.openapi.json.gz"), scope="/wiki/api/v2/", base="/wiki/api/v2")


def auth_for(sim: ConfluenceSim) -> dict[str, Any]:
    if sim.deployment == "cloud":
        return {"type": "basic", "username": sim.email, "password": sim.api_token}
    return {"type": "bearer", "token": sim.pat}


def config_for(sim: ConfluenceSim, tmp_path: Path | None = None, base_url: str | None = None,
               pipelines: dict[str, dict[str, Any]] | None = None, **pipeline: Any) -> Config:
    spec: dict[str, Any] = {"connector": "wiki", "mode": "historical", "space_keys": ["OPS", "ENG"],
                            "max_retries": 2, "retry_budget": 20}
    spec.update(pipeline)
    data: dict[str, Any] = {
        "connectors": {"wiki": {"type": "confluence", "deployment": sim.deployment,
                                "base_url": base_url or sim.site, "auth": auth_for(sim)}},
        "pipelines": pipelines or {"kb": spec},
    }
    if tmp_path is not None:
        data["store"] = Backend.store_url(tmp_path / "udc.db")
    return parse_config(data)


def source_for(sim: ConfluenceSim, **pipeline: Any) -> ConfluenceSource:
    return build(config_for(sim, **pipeline), "kb")


def read_all(source: ConfluenceSource, name: str, window: Window, resume: Position | None = None
             ) -> list[Record]:
    stream = next(s for s in source.streams() if s.name == name)
    return [r for page in stream.read(window, resume) for r in page.records]


SimFactory = Callable[..., ConfluenceSim]
