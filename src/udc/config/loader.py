"""Reading `udc.yaml`: YAML to `Config`, every problem as one line with the file, line, key path and a fix."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from udc.config.common import DEFAULT_CONFIG
from udc.config.model import SOURCES, Config, input_keys
from udc.errors import ConfigError


def _models(annotation: Any, found: set[type[BaseModel]]) -> set[type[BaseModel]]:
    """Every model reachable from a type annotation (through unions, lists, dicts and Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in found:
            found.add(annotation)
            for info in annotation.model_fields.values():
                _models(info.annotation, found)
    else:
        for arg in get_args(annotation):
            _models(arg, found)
    return found


# every model a config can hold: Config's own fields reach the base models, SOURCES the per-type ones
_ALL_MODELS = _models(Config, set())
for _source in SOURCES:
    _models(_source.connector, _ALL_MODELS)
    _models(_source.options, _ALL_MODELS)
KEYS = set().union(*(input_keys(model) for model in _ALL_MODELS))
# the `type` literals that pick a union member: pydantic puts them in error locations, users never write them there
TAGS = {str(value) for model in _ALL_MODELS if "type" in model.model_fields
        for value in get_args(model.model_fields["type"].annotation)
        if get_origin(model.model_fields["type"].annotation) is Literal}


def _user_loc(data: Any, loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """An error's location as the user's keys: union tags and validator names dropped unless the data has them."""
    kept: list[int | str] = []
    node = data
    for part in loc:
        if isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif isinstance(node, dict) and part in node:
            node = node.get(part)
        elif isinstance(part, str) and (part.startswith("function-") or part in TAGS):
            continue
        else:
            node = None
        kept.append(part)
    return tuple(kept)


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc`, for error messages."""
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        if node is None:
            return None
    return node.start_mark.line + 1 if node is not None else None


def _describe(error: Any, data: Any, source: str, root: yaml.Node | None) -> str:
    loc = _user_loc(data, error["loc"])
    named = re.match(r"Value error, pipeline '([^']+)'", error["msg"])
    if not loc and named:  # a check across sections names its pipeline: point there
        loc = ("pipelines", named.group(1))
    path = ".".join(str(p) for p in loc) or "(top level)"
    line = _line_of(root, loc)
    where = f"{source}:{line}" if line else source
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        guess = difflib.get_close_matches(key, KEYS, n=1)
        fix = f"did you mean '{guess[0]}'?" if guess else "remove it; see `udc config schema` for the valid keys"
        return f"{where}: unknown key '{path}'\n  fix: {fix}"
    if kind == "missing":
        return f"{where}: '{path}' is required\n  fix: add {loc[-1]}: <value>"
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return f"{where}: {path}: {msg}\n  fix: set `type:` to one of the names listed"
    text = msg.removeprefix("Value error, ")
    value = error.get("input")
    shown = "" if isinstance(value, dict | list) or value is None or "auth" in path else f" (got {value!r})"
    return f"{where}: {path}: {text}{shown}"


def load_config(path: str | Path = DEFAULT_CONFIG) -> Config:
    """Read and validate a config file; every problem raises ConfigError naming the file, key path and fix."""
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"config file {file} does not exist", "create it (see README) or pass --config FILE")
    text = file.read_text()
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else str(file)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}", "fix the indentation or quoting at that line") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: the top level must be a mapping", "start with `connectors:` and `pipelines:`")
    return parse_config(data, str(file), root)


def parse_config(data: dict[str, Any], source: str = "<config>", root: yaml.Node | None = None) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # a pipeline whose connector has no valid type cannot pick its model: the connector's error says why
        untyped = [e for e in errors if e["loc"][:1] == ("pipelines",) and e["type"].startswith("union_tag")]
        problems = [_describe(e, data, source, root) for e in errors if e not in untyped or len(untyped) == len(errors)]
        raise ConfigError("invalid configuration:\n" + "\n".join(problems)) from None
