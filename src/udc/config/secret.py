"""Secret references in `udc.yaml`: `env:NAME` and `file:/path` resolved to their values, and empty secrets refused.

A command that needs only some connectors validates the rest with `DEFER_SECRETS` in the validation context: their
references are checked for form (`env:` with a name) but not read, so their secrets need not be set. A config read
from a file (`FROM_FILE` in the context) may hold only references: a literal secret there is refused, since config
files get committed, copied and attached to tickets. Configs built in code may pass values (or `SecretStr`).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, SecretStr, ValidationInfo

from udc import secrets

DEFER_SECRETS = "defer_secrets"
FROM_FILE = "from_file"
REFERENCES = ("env:", "file:")


def resolve_secret(value: Any) -> Any:
    """`env:NAME` and `file:/path` references become their values; anything else is a literal secret."""
    if isinstance(value, SecretStr):  # given in code: scrubbed all the same
        secrets.register(value.get_secret_value())
        return value
    if not isinstance(value, str):
        return value
    resolved = secrets.read_reference(value)
    if not resolved:
        raise ValueError("the secret is empty" + ("" if resolved == value else f" ({value} holds nothing)")
                         + "; set it to the real value")
    secrets.register(resolved)
    return resolved


def deferred(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get(DEFER_SECRETS))


def _validate(value: Any, info: ValidationInfo) -> Any:
    if info.context and info.context.get(FROM_FILE) and isinstance(value, str) and not value.startswith(REFERENCES):
        field = info.field_name or "secret"
        raise ValueError(f"a secret is written in the file; udc reads secrets only from references: write "
                         f"{field}: env:NAME (and export NAME=... before running udc) or {field}: file:/path/to/"
                         f"secret (a file readable only by you)")
    if deferred(info) and isinstance(value, str):
        secrets.reference_name(value)  # the reference's form is checked all the same
        return value
    return resolve_secret(value)


Secret = Annotated[SecretStr, BeforeValidator(_validate)]
