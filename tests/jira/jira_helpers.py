"""Helpers for the Jira tests: the official v3 OpenAPI spec as a request/response validator, and configs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from openapi_check import OpenApi, load_spec
from stores import Backend
from udc.config import Config, parse_config
from udc.simulators.base import Request
from udc.simulators.jira import JiraSim


@cache
def official_openapi() -> OpenApi:
    """Atlassian's official Jira Cloud platform v3 spec (Apache 2.0); Data Center's v2 has no spec here."""
    return OpenApi(load_spec("jira-cloud-platform-v3.openapi.json.gz"), scope="/rest/api/3/")


def auth_for(sim: JiraSim) -> dict[str, Any]:
    if sim.deployment == "cloud":
        return {"type": "basic", "username": sim.email, "password": sim.api_token}
    return {"type": "bearer", "token": sim.pat}


def config_for(sim: JiraSim, tmp_path: Path | None = None, auth: dict[str, Any] | None = None,
               **pipeline: Any) -> Config:
    spec: dict[str, Any] = {"connector": "jira", "mode": "historical", "jql": "project in (OPS, NET)",
                            "max_retries": 2, "retry_budget": 20}
    spec.update(pipeline)
    data: dict[str, Any] = {
        "connectors": {"jira": {"type": "jira", "deployment": sim.deployment, "base_url": sim.url,
                                "auth": auth or auth_for(sim)}},
        "pipelines": {"jira-p": spec},
    }
    if tmp_path is not None:
        data["store"] = Backend.store_url(tmp_path / "udc.db")
    return parse_config(data)


SimFactory = Callable[..., JiraSim]
ConfigFactory = Callable[..., Config]


def source_for(sim: JiraSim, auth: dict[str, Any] | None = None, **pipeline: Any) -> Any:
    """A JiraSource for pipeline `jira-p` on the simulator (no store needed)."""
    from udc.sources.jira import build

    return build(config_for(sim, None, auth, **pipeline), "jira-p")


def stream(source: Any, name: str) -> Any:
    return next(s for s in source.streams() if s.name == name)


def read_all(stream: Any, window: Any, resume: Any = None) -> tuple[list[dict[str, Any]], list[Any]]:
    pages = list(stream.read(window, resume))
    return [r for p in pages for r in p.records], pages


def mover(sim: JiraSim, before: datetime, every: int = 2) -> Any:
    """An on_request hook: every `every`-th search, the oldest issue updated before `before` is edited 10+ minutes
    after `before` (so it leaves the window being read, like a user editing an issue mid-sync)."""
    count = [0]
    moved_to = [before + timedelta(minutes=10)]

    def hook(request: Request) -> None:
        if "search" not in request.path:
            return
        count[0] += 1
        if count[0] % every == 0:
            oldest = min((i for i in sim.visible_issues() if i.updated < before), key=lambda i: i.updated, default=None)
            if oldest is not None:
                moved_to[0] += timedelta(seconds=1)
                sim.update_issue(oldest.key, at=moved_to[0], summary=f"edited {count[0]}")

    return hook
