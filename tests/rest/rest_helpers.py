"""Helpers for the REST source's tests: one table spec per API shape of the simulator, configs, and the store's
view of a table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from udc.config import Config, load_config
from udc.simulators.rest import RestSim
from udc.store import Store

START = datetime(2025, 1, 1, tzinfo=UTC)
NOW = START + timedelta(hours=3)  # after the simulated data (it spans two hours from START)
SECRET = "pa$$ w0rd`&%+\"é"

ITEMS_OFFSET: dict[str, Any] = {
    "name": "items", "path": "/offset/items", "params": {"sort_by": "updated_at:asc"}, "records": "items",
    "primary_key": "id", "cursor": {"field": "updated_at", "format": "iso8601"}, "order": "cursor",
    "window": {"start_param": "since", "end_param": "until", "format": "iso8601"},
    "paginator": {"type": "offset", "offset_param": "offset", "limit_param": "limit", "has_more": "more"},
    "links": [{"field": "service.id", "to": "services"}]}
NOTES: dict[str, Any] = {
    "name": "notes", "path": "/offset/items/{parent.id}/notes", "parent": "items", "records": "notes",
    "primary_key": "id", "cursor": {"field": "created_at", "format": "iso8601"},
    "paginator": {"type": "offset", "offset_param": "offset", "limit_param": "limit", "has_more": "more"}}
EVENTS_CURSOR: dict[str, Any] = {
    "name": "events", "path": "/cursor/events", "records": "data", "primary_key": "event_id",
    "cursor": {"field": "updated", "format": "epoch_s"}, "order": "cursor",
    "window": {"start_param": "updated_after", "end_param": "updated_before", "format": "epoch_s"},
    "paginator": {"type": "cursor", "token_path": "next_cursor", "token_param": "cursor", "limit_param": "page_size",
                  "is_last": "end_of_stream"}}
ISSUES_LINK: dict[str, Any] = {
    "name": "issues", "path": "/link/issues", "records": "", "primary_key": "id",
    "cursor": {"field": "updated_at", "format": "iso8601"}, "order": "cursor", "window": {"start_param": "since"},
    "paginator": {"type": "link_header", "limit_param": "per_page"}}
ITEMS_NEXT: dict[str, Any] = {
    "name": "items", "path": "/next/items", "records": "results", "primary_key": "id",
    "cursor": {"field": "updated_at", "format": "iso8601"}, "order": "cursor", "window": {"start_param": "since"},
    "paginator": {"type": "next_url", "url_path": "next", "limit_param": "limit"}}
ITEMS_PAGE: dict[str, Any] = {
    "name": "items", "path": "/page/items", "records": "items", "primary_key": "id",
    "cursor": {"field": "updated_at", "format": "iso8601"}, "order": "cursor", "window": {"start_param": "since"},
    "paginator": {"type": "page", "page_param": "page", "limit_param": "per_page", "total_path": "total"}}
SHAPES = {"offset": ITEMS_OFFSET, "cursor": EVENTS_CURSOR, "link_header": ISSUES_LINK, "next_url": ITEMS_NEXT,
          "page": ITEMS_PAGE}


def auth_for(sim: RestSim, secret_file: Path) -> dict[str, Any]:
    secret_file.write_text(sim.secret)
    ref = f"file:{secret_file}"
    return {"none": {"type": "none"},
            "basic": {"type": "basic", "username": sim.user, "password": ref},
            "bearer": {"type": "bearer", "token": ref},
            "api_key_header": {"type": "api_key", "header": sim.header, "value": f"Token token=${{{ref}}}"},
            "api_key_query": {"type": "api_key", "query": sim.query_param, "value": ref},
            "oauth": {"type": "oauth_client_credentials", "token_url": f"{sim.url}/oauth/token",
                      "client_id": sim.client_id, "client_secret": ref}}[sim.auth]


def write_config(tmp_path: Path, sim: RestSim, pipelines: dict[str, dict[str, Any]],
                 auth: dict[str, Any] | None = None) -> Path:
    config = {
        "store": f"sqlite:///{tmp_path / 'udc.db'}",
        "connectors": {"api": {"type": "rest", "base_url": sim.url,
                               "auth": auth or auth_for(sim, tmp_path / "api.secret"),
                               "headers": {"Accept": "application/json"}}},
        "pipelines": {name: {"connector": "api", "max_retries": 3, "retry_budget": 50, **p}
                      for name, p in pipelines.items()},
    }
    path = tmp_path / "udc.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return path


def config_for(tmp_path: Path, sim: RestSim, pipelines: dict[str, dict[str, Any]]) -> Config:
    return load_config(write_config(tmp_path, sim, pipelines))


def stored(store: Store, table: str) -> dict[str, int]:
    """key → version of every live record of a table."""
    return {pk: data["version"] for pk, data, deleted in store.iter_records(f"api/{table}") if not deleted}


def rows(store: Store, table: str, connector: str = "api") -> tuple[int, int]:
    """(rows, distinct keys) of a table in the store."""
    (found,) = store.execute("SELECT count(*), count(DISTINCT pk) FROM records WHERE dataset = ?",
                             (f"{connector}/{table}",))
    return found
