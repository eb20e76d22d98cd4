"""Reading `udc.yaml`: YAML to `Config`, every problem as one line with the file, line, key path and a fix."""

from __future__ import annotations

import codecs
import difflib
import os
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from udc.config.common import DEFAULT_CONFIG, SQLITE, split_store_url
from udc.config.model import SOURCES, Config, input_keys
from udc.config.secret import DEFER_SECRETS, FROM_FILE
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
    if kind.startswith("union_tag") and loc[:1] == ("pipelines",) and len(loc) == 2:  # no connector to type it
        return f"{where}: '{path}.connector' is required\n  fix: add connector: <the name of one of your connectors>"
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return f"{where}: {path}: {msg}\n  fix: set `type:` to one of the names listed"
    # pydantic's word for a mapping names its internals ("object to extract fields from", "instance of TableSpec")
    text = re.sub(r"a valid dictionary or (object to extract fields from|instance of \w+)", "a mapping (key: value)",
                  msg.removeprefix("Value error, "))
    value = error.get("input")
    # a secret's value is never echoed, even a wrong one; nor a store URL or one that may carry a password
    secret = "auth" in loc or loc[-1:] == ("key",) or loc[:1] in (("store",), ("store_password",)) or (
        isinstance(value, str) and ("@" in value and "://" in value or "key=" in value))  # a store URL's ?key=
    shown = "" if isinstance(value, dict | list) or value is None or secret else f" (got {_short(value)})"
    # pydantic's own type and bound messages ("Input should be greater than 0") say what, not how: add the how
    wanted = text.removeprefix("Input should be ").split(",")[0] if text.startswith("Input should be ") else ""
    fix = f"\n  fix: make {loc[-1] if isinstance(loc[-1], str) else path} {wanted}" if wanted and loc else ""
    return f"{where}: {path}: {text}{shown}{fix}"


def _short(value: Any) -> str:
    """A bad value as the message shows it: a 200 KB one is not echoed whole."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}… ({len(text):,} characters)"


def load_config(path: str | Path = DEFAULT_CONFIG, secrets_for: Collection[str] | None = None) -> Config:
    """Read and validate a config file; every problem raises ConfigError naming the file, key path and fix. A relative
    `sqlite:///` store path is taken from the config file's folder, wherever udc runs from. `secrets_for`: see
    `parse_config`."""
    file = Path(path)
    text = _read(file)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except _Refused as exc:
        mark = exc.problem_mark
        raise ConfigError(f"{file}:{mark.line + 1}:{mark.column + 1}: {exc.problem}" if mark else
                          f"{file}: {exc.problem}", exc.hint) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else str(file)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}", "fix the indentation or quoting at that line") from None
    except RecursionError:
        raise ConfigError(f"{file}: nested too deeply to be a udc config",
                          "a config is a few levels deep: connectors, pipelines, their tables") from None
    finally:
        loader.dispose()
    if not data:
        raise ConfigError(f"{file} is empty (or holds only comments)",
                          "define `connectors:` and `pipelines:` (see the README's example)")
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: the top level must be a mapping", "start with `connectors:` and `pipelines:`")
    return _store_beside(parse_config(data, str(file), root, secrets_for), file)


def _read(file: Path) -> str:
    if not file.exists():
        raise ConfigError(f"config file {file} does not exist", "create it (see README) or pass --config FILE")
    if file.is_dir():
        raise ConfigError(f"{file} is a folder, not a config file",
                          f"pass the file itself: --config {file / DEFAULT_CONFIG}")
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {file} ({exc.strerror})", "check its permissions") from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in raw:
        raise ConfigError(f"{file} is UTF-16 (or binary), not UTF-8 text", "save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{file}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x})",
                          "save the file as UTF-8") from None


def _store_beside(config: Config, file: Path) -> Config:
    if not config.store.startswith(SQLITE):  # a server's store: nothing on this disk
        return config
    url, key = split_store_url(config.store)
    location = Path(os.path.abspath(file.parent / (url.removeprefix(SQLITE) or "udc.db")))
    if location.is_dir():
        raise ConfigError(f"{file}: store: {location} is a folder", f"name the database file, e.g. {SQLITE}udc.db")
    if not location.parent.is_dir():
        raise ConfigError(f"{file}: store: the folder {location.parent} does not exist", "create it, or fix `store:`")
    return config.model_copy(update={"store": f"{SQLITE}{location}" + (f"?key={key}" if key else "")})


class _Refused(yaml.constructor.ConstructorError):
    """YAML that parses but cannot be a config: the problem at a node, with its fix."""

    def __init__(self, problem: str, hint: str, node: yaml.Node) -> None:
        super().__init__(None, None, problem, node.start_mark)
        self.hint = hint


class _Loader(yaml.SafeLoader):
    """Safe YAML, refusing what PyYAML lets through or crashes on: a key given twice (the last would silently win), a
    key that is not a name (`null:`, `1:`, `yes:`), a date that does not exist (`2025-02-30`)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                what = "null" if key is None else "true/false" if isinstance(key, bool) else "a number"
                raise _Refused(f"the key {key_node.value!r} is read as {what}, not a name",
                               f"quote it: \"{key_node.value}\": …", key_node)
            if key in seen:
                first = seen[key].start_mark.line + 1
                raise _Refused(f"key '{key}' is given twice (line {first} and line {key_node.start_mark.line + 1})",
                               "keep one of them: YAML would silently use the last", key_node)
            seen[key] = key_node
        return super().construct_mapping(node, deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise _Refused(f"'{node.value}' is not a real date ({exc})", "write a date that exists, like 2025-03-01",
                           node) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def parse_config(data: dict[str, Any], source: str = "<config>", root: yaml.Node | None = None,
                 secrets_for: Collection[str] | None = None) -> Config:
    """`secrets_for`: the pipelines whose connectors' secrets are read (None: every connector's). The whole file is
    validated all the same, other secrets for their form only; the Config returned holds just those pipelines and
    their connectors, so a sync of one pipeline needs only its own connector's secrets set. With a YAML `root` (a
    config read from a file), literal secrets are refused."""
    origin = {FROM_FILE: root is not None}
    if secrets_for is None:
        return _validate(data, source, root, origin)
    whole = _validate(data, source, root, {DEFER_SECRETS: True, **origin})
    if not secrets_for:
        return whole
    used = {whole.pipeline(name).connector for name in secrets_for}  # an unknown name: the error lists every one
    pipelines = {name: data["pipelines"][name] for name in secrets_for}
    return _validate({**data, "pipelines": pipelines,
                      "connectors": {name: c for name, c in data["connectors"].items() if name in used}},
                     source, root, origin)


def _validate(data: dict[str, Any], source: str, root: yaml.Node | None, context: dict[str, Any] | None) -> Config:
    try:
        return Config.model_validate(data, context=context)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # a pipeline whose connector has no valid type cannot pick its model: the connector's error says why
        pipelines = data["pipelines"] if isinstance(data.get("pipelines"), dict) else {}
        untyped = [e for e in errors if e["loc"][:1] == ("pipelines",) and e["type"].startswith("union_tag")
                   and isinstance(pipelines.get(e["loc"][1]), dict) and "connector" in pipelines[e["loc"][1]]]
        problems = [_describe(e, data, source, root) for e in errors if e not in untyped or len(untyped) == len(errors)]
        raise ConfigError("invalid configuration:\n" + "\n".join(problems)) from None
