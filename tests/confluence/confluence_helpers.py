"""Helpers for the Confluence tests: the official Cloud v2 OpenAPI spec as a request/response validator, configs,
and reading a stream."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from openapi_schema_validator import OAS30ReadValidator, OAS30Validator

from udc.config import Config, parse_config
from udc.records import Position, Record, Window
from udc.simulators.base import Request, Response
from udc.simulators.confluence import ConfluenceSim
from udc.sources.confluence import ConfluenceSource, build

SPEC = Path(__file__).resolve().parents[2] / "docs" / "specs" / "confluence-cloud-v2.openapi.json.gz"
V2 = "/wiki/api/v2"


class OpenApi:
    """Checks v2 requests and responses against the operations of the Confluence Cloud v2 spec (paths relative to
    its server, `https://{your-domain}/wiki/api/v2`)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self._paths = [(re.compile("^" + re.sub(r"\{[^/}]+\}", "[^/]+", p) + "$"), p) for p in spec["paths"]]

    def validator(self, schema: dict[str, Any], read: bool = True) -> Any:
        return (OAS30ReadValidator if read else OAS30Validator)({**schema, "components": self.spec["components"]})

    def problems(self, schema: dict[str, Any], instance: Any, read: bool = True) -> list[str]:
        return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
                for e in self.validator(schema, read).iter_errors(instance)]

    def check_exchange(self, request: Request, response: Response) -> None:
        if not request.path.startswith(V2 + "/"):
            return  # v1 (CQL) has no spec here
        path = request.path[len(V2):]
        matches = sorted((t for regex, t in self._paths if regex.match(path)), key=lambda t: t.count("{"))
        assert matches, f"GET {path} is not an operation of the Confluence Cloud v2 spec"
        item = self.spec["paths"][matches[0]]
        assert request.method.lower() in item, f"{request.method} {matches[0]} is not in the spec"
        op = item[request.method.lower()]
        declared = {p["name"]: p for p in [*item.get("parameters", []), *op.get("parameters", [])]
                    if p.get("in") == "query"}
        for name, values in request.query.items():
            assert name in declared, f"{matches[0]}: query parameter '{name}' is not in the spec"
            for raw in values:
                schema = declared[name].get("schema", {})
                found = self.problems(schema, _coerce(raw, schema), read=False)
                assert not found, f"{matches[0]} ?{name}={raw!r}: {found}"
        if not response.headers.get("Content-Type", "").startswith("application/json"):
            return
        documented = op["responses"]
        assert str(response.status) in documented, f"{matches[0]}: status {response.status} is not documented"
        media = documented[str(response.status)].get("content", {}).get("application/json")
        if media is not None:
            found = self.problems(media["schema"], orjson.loads(response.body))
            assert not found, f"{matches[0]} {response.status}: response does not match the spec: {found[:5]}"


@cache
def official_openapi() -> OpenApi:
    return OpenApi(json.loads(gzip.decompress(SPEC.read_bytes())))


def _coerce(raw: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        return int(raw) if re.fullmatch(r"-?\d+", raw) else raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind == "array":
        return [_coerce(part, schema.get("items", {})) for part in raw.split(",")]
    return raw


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
        data["store"] = f"sqlite:///{tmp_path / 'udc.db'}"
    return parse_config(data)


def source_for(sim: ConfluenceSim, **pipeline: Any) -> ConfluenceSource:
    return build(config_for(sim, **pipeline), "kb")


def read_all(source: ConfluenceSource, name: str, window: Window, resume: Position | None = None
             ) -> list[Record]:
    stream = next(s for s in source.streams() if s.name == name)
    return [r for page in stream.read(window, resume) for r in page.records]


SimFactory = Callable[..., ConfluenceSim]
