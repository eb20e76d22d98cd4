"""docs/compose, the users' compose file: it parses, has the services the README promises, and every command it
runs is a real udc command (its --help answers) reading a config udc accepts."""

from __future__ import annotations

import shlex
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from typer.testing import CliRunner

from udc.cli import app
from udc.config import load_config

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docs" / "compose"


def services() -> dict[str, Any]:
    return yaml.safe_load((COMPOSE / "docker-compose.yml").read_text())["services"]


def udc_commands(command: list[str]) -> list[list[str]]:
    """The udc command lines of a service's command (an argument list, or `sh -c` with `&&` between commands)."""
    if command[:2] == ["sh", "-c"]:
        return [line for part in command[2].split("&&") if (line := shlex.split(part))[:1] == ["udc"]]
    return [command] if command[:1] == ["udc"] else []


def test_the_compose_file_has_the_promised_services_running_real_udc_commands() -> None:
    found = services()
    assert {"postgres", "redis", "worker", "scheduler", "serve"} <= set(found)
    assert found["worker"]["deploy"]["replicas"] > 1
    lines = {name: udc_commands(s["command"]) for name, s in found.items() if "command" in s}
    assert lines["worker"][0][:2] == ["udc", "worker"] and lines["serve"][0][:2] == ["udc", "serve"]
    assert lines["scheduler"][0][:4] == ["udc", "run", "--executor", "celery"]
    runner = CliRunner()
    ran = 0
    for line in (line for group in lines.values() for line in group):
        words = line[1:]
        options = next((i for i, w in enumerate(words) if w.startswith("-")), len(words))
        result = runner.invoke(app, [*words[:options], "--help"])  # the command exists ...
        assert result.exit_code == 0, (line, result.output)
        for option in (w.split("=")[0] for w in words[options:] if w.startswith("--")):
            assert option in result.output, (line, option)  # ... and takes these options
        ran += 1
    assert ran == 3  # worker, scheduler, serve


def test_the_configs_it_mounts_are_valid_and_hold_no_secret() -> None:
    scaled = load_config(COMPOSE / "udc.yaml", secrets_for=())
    assert scaled.store.startswith("postgresql://") and scaled.pipeline("snow-itsm").mode == "incremental"
    for name in ("serve", "scheduler"):  # they read the live store, with its password and no connector secret
        assert services()[name]["environment"]["UDC_CONFIG"] == "/etc/udc/udc.yaml"
        assert not [k for k in services()[name]["environment"] if k.startswith("SNOW_")], name
    text = (COMPOSE / "udc.yaml").read_text()
    assert "env:UDC_STORE_PASSWORD" in text and "env:SNOW_PASSWORD" in text
    for name, service in services().items():  # passwords come from .env, never written in the file
        for key, value in (service.get("environment") or {}).items():
            if "PASSWORD" in key or "TOKEN" in key:
                assert str(value).startswith("${"), (name, key)


def test_postgres_is_healthy_only_once_it_listens_on_the_network() -> None:
    """On a new volume the postgres image initialises through a server on its unix socket only, then restarts: a
    socket probe passes during that, and the workers would start against a server about to stop."""
    probe = services()["postgres"]["healthcheck"]["test"]
    assert probe[:2] == ["CMD", "pg_isready"] and probe[probe.index("-h") + 1] == "127.0.0.1"


def installed_closure(requirements: list[Requirement]) -> set[str]:
    """The distributions these requirements bring in, extras followed, read from the installed packages' metadata."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(canonicalize_name(r.name), frozenset(r.extras)) for r in requirements]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for text in metadata.requires(name) or []:
            req = Requirement(text)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras | {""}):
                todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    return {name for name, _ in seen}


def test_the_image_gets_what_the_redis_broker_imports() -> None:
    """The Dockerfile's `pip install .` in a clean image: kombu's Redis transport imports what only kombu's `redis`
    extra installs (packaging), so udc must ask for celery[redis], not celery (every worker failed at start)."""
    declared = [Requirement(d) for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]
    kombu = [Requirement(r) for r in metadata.requires("kombu") or []]
    needed = {canonicalize_name(r.name) for r in kombu  # what the extra adds, not what kombu always needs
              if r.marker is not None and r.marker.evaluate({"extra": "redis"})
              and not r.marker.evaluate({"extra": ""})}
    assert "packaging" in needed
    assert needed <= installed_closure(declared)
