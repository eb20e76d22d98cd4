"""Configs written to a file may hold only secret references: tests that write one put their secrets in the
environment (which `python -m udc` subprocesses inherit) and write `env:NAME`."""

from __future__ import annotations

import hashlib
import os
from typing import Any

SECRET_KEYS = ("password", "token", "client_id", "client_secret")


def env_ref(value: str) -> str:
    """`env:NAME` for a secret, NAME set to it in this process's environment."""
    name = "UDC_TEST_SECRET_" + hashlib.sha256(value.encode()).hexdigest()[:12].upper()
    os.environ[name] = value
    return f"env:{name}"


def auth_refs(auth: dict[str, Any]) -> dict[str, Any]:
    """An auth block with every secret as an `env:` reference."""
    return {key: env_ref(value) if key in SECRET_KEYS and isinstance(value, str) and not value.startswith(
        ("env:", "file:")) else value for key, value in auth.items()}
