"""Helpers for the Jira tests: the official v3 OpenAPI spec as a request/response validator, and configs."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from openapi_schema_validator import OAS30ReadValidator, OAS30Validator

from udc.config import Config, parse_config
from udc.simulators.base import Request, Response
from udc.simulators.jira import JiraSim

SPEC = Path(__file__).resolve().parents[2] / "docs" / "specs" / "jira-cloud-platform-v3.openapi.json.gz"


@cache
def load_spec() -> dict[str, Any]:
    """Atlassian's official Jira Cloud platform v3 OpenAPI spec (Apache 2.0), kept in the repository."""
    data: dict[str, Any] = json.loads(gzip.decompress(SPEC.read_bytes()))
    return data


class OpenApi:
    """Checks requests and responses against the operations of the Jira Cloud platform v3 spec."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self._paths = [(re.compile("^" + re.sub(r"\{[^/}]+\}", "[^/]+", p) + "$"), p) for p in spec["paths"]]

    def operation(self, path: str, method: str) -> tuple[str, dict[str, Any]]:
        matches = [template for regex, template in self._paths if regex.match(path)]
        # prefer the most literal template (/project/search over /project/{projectIdOrKey})
        matches.sort(key=lambda t: t.count("{"))
        assert matches, f"{method} {path} is not an operation of the Jira Cloud v3 spec"
        template = matches[0]
        item = self.spec["paths"][template]
        assert method.lower() in item, f"{method} {template} is not in the spec"
        return template, item[method.lower()]

    def schema_validator(self, schema: dict[str, Any], read: bool = True) -> Any:
        full = {**schema, "components": self.spec["components"]}
        return (OAS30ReadValidator if read else OAS30Validator)(full)

    def errors(self, validator: Any, instance: Any) -> list[str]:
        return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]

    def check_response(self, path: str, method: str, status: int, body: Any) -> None:
        template, op = self.operation(path, method)
        responses = op["responses"]
        if status in (410, 429) or status >= 500:
            # rate limits and outages are documented once for the whole API; 410 is the removed /search (CHANGE-2046)
            return
        assert str(status) in responses, f"{method} {template}: status {status} is not documented"
        content = responses[str(status)].get("content", {})
        media = content.get("application/json")
        if media is None:
            return  # documented without a body schema (most 4xx): nothing more to check
        problems = self.errors(self.schema_validator(media["schema"]), body)
        assert not problems, f"{method} {template} {status}: response does not match the spec: {problems[:5]}"

    def check_request(self, request: Request) -> None:
        template, op = self.operation(request.path, request.method)
        item = self.spec["paths"][template]
        declared = {p["name"]: p for p in [*item.get("parameters", []), *op.get("parameters", [])]
                    if p.get("in") == "query"}
        for name, values in request.query.items():
            assert name in declared, f"{request.method} {template}: query parameter '{name}' is not in the spec"
            schema = declared[name].get("schema", {})
            for raw in values:
                value = _coerce(raw, schema)
                problems = self.errors(self.schema_validator(schema, read=False), value)
                assert not problems, f"{template} ?{name}={raw!r}: {problems}"
        for name, param in declared.items():
            if param.get("required"):
                assert name in request.query, f"{template}: required parameter '{name}' is missing"
        if request.method == "POST" and request.body:
            media = op["requestBody"]["content"]["application/json"]
            problems = self.errors(self.schema_validator(media["schema"], read=False), orjson.loads(request.body))
            assert not problems, f"POST {template}: body does not match the spec: {problems[:5]}"

    def check_exchange(self, request: Request, response: Response) -> None:
        if not request.path.startswith("/rest/api/3/"):
            return  # Data Center's v2 has no spec here
        self.check_request(request)
        if response.headers.get("Content-Type", "").startswith("application/json"):
            self.check_response(request.path, request.method, response.status, orjson.loads(response.body))


@cache
def official_openapi() -> OpenApi:
    return OpenApi(load_spec())


def _coerce(raw: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        return int(raw) if re.fullmatch(r"-?\d+", raw) else raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind == "array":
        return [_coerce(part, schema.get("items", {})) for part in raw.split(",")] if "," in raw else \
            [_coerce(raw, schema.get("items", {}))]
    return raw


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
        data["store"] = f"sqlite:///{tmp_path / 'udc.db'}"
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
