"""Checks a simulator's requests and responses against a vendor's official OpenAPI 3 spec (kept gzipped in
docs/specs): every query parameter declared and of its type, required ones present, JSON bodies (POSTed, answered)
matching their schemas, every status documented."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

import orjson
from openapi_schema_validator import OAS30ReadValidator, OAS30Validator

from udc.simulators.base import Request, Response

SPECS = Path(__file__).resolve().parents[1] / "docs" / "specs"


def load_spec(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(gzip.decompress((SPECS / name).read_bytes()))
    return data


class OpenApi:
    """The operations of one spec. `scope`: the request paths it covers (others have no spec here); `base`: the part
    of those paths that the spec's own paths leave out (its server URL's path)."""

    def __init__(self, spec: dict[str, Any], scope: str, base: str = "") -> None:
        self.spec, self.scope, self.base = spec, scope, base
        self._paths = [(re.compile("^" + re.sub(r"\{[^/}]+\}", "[^/]+", p) + "$"), p) for p in spec["paths"]]

    def operation(self, path: str, method: str) -> tuple[str, dict[str, Any]]:
        matches = [template for regex, template in self._paths if regex.match(path.removeprefix(self.base))]
        # prefer the most literal template (/project/search over /project/{projectIdOrKey})
        matches.sort(key=lambda t: t.count("{"))
        assert matches, f"{method} {path} is not an operation of the spec"
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
            # rate limits and outages are documented once for the whole API; 410 is Jira's removed /search
            return
        assert str(status) in responses, f"{method} {template}: status {status} is not documented"
        media = responses[str(status)].get("content", {}).get("application/json")
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
                problems = self.errors(self.schema_validator(schema, read=False), _coerce(raw, schema))
                assert not problems, f"{template} ?{name}={raw!r}: {problems}"
        for name, param in declared.items():
            if param.get("required"):
                assert name in request.query, f"{template}: required parameter '{name}' is missing"
        if request.method == "POST" and request.body:
            media = op["requestBody"]["content"]["application/json"]
            problems = self.errors(self.schema_validator(media["schema"], read=False), orjson.loads(request.body))
            assert not problems, f"POST {template}: body does not match the spec: {problems[:5]}"

    def check_exchange(self, request: Request, response: Response) -> None:
        if not request.path.startswith(self.scope):
            return
        self.check_request(request)
        if response.headers.get("Content-Type", "").startswith("application/json"):
            self.check_response(request.path, request.method, response.status, orjson.loads(response.body))


def _coerce(raw: str, schema: dict[str, Any]) -> Any:
    """A query parameter's text as the value its schema describes."""
    kind = schema.get("type")
    if kind == "integer":
        return int(raw) if re.fullmatch(r"-?\d+", raw) else raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind == "array":
        return [_coerce(part, schema.get("items", {})) for part in raw.split(",")]
    return raw


class RecordingSim(Protocol):
    """A simulator that can keep every request it answered with its response (the Jira and Confluence ones)."""

    record_responses: bool
    exchanges: list[tuple[Request, Response]]

    deployment: str

    def start(self) -> Any: ...

    def stop(self) -> None: ...


S = TypeVar("S", bound=RecordingSim)


def checked_sims(sim_class: Callable[..., S], openapi: OpenApi, covers: Callable[[S], bool] = lambda sim: True
                 ) -> Iterator[Callable[..., S]]:
    """A fixture's body: a factory of started simulators that record their exchanges; once the test is done they stop
    and every exchange in the spec's scope, of each simulator the spec `covers`, is checked against it."""
    started: list[S] = []

    def factory(deployment: str = "cloud", **kwargs: Any) -> S:
        sim = sim_class(deployment=deployment, **kwargs)
        sim.record_responses = True
        sim.start()
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()
    for sim in filter(covers, started):
        for request, response in sim.exchanges:
            openapi.check_exchange(request, response)
