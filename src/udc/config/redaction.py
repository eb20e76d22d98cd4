"""Redaction policy as it appears under a pipeline's `redaction:` key (configuration: `udc.redact` applies it)."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from udc.config import entities as E
from udc.config.secret import Secret, resolve_secret
from udc.errors import ConfigError

Mode = Literal["token", "mask", "drop"]
KEY_ENV = "UDC_REDACTION_KEY"
MIN_KEY_CHARS = 16
KEY_HINT = (f"export {KEY_ENV}=$(openssl rand -hex 32) (and keep it: tokens only join across runs under the same "
            "key), or set redaction.key: env:NAME / file:/path, or use mode: mask or drop")


class FieldPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entities: list[str] | None = None  # None: inherit
    mode: Mode | None = None
    skip: bool = False  # leave this field untouched
    whole: bool = False  # the whole value is a person/identifier: replace it entirely


class TablePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entities: list[str] | None = None
    mode: Mode | None = None
    fields: dict[str, FieldPolicy] = Field(default_factory=dict)


class RedactionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    key: Secret | None = None  # HMAC key for stable tokens: env:NAME or file:/path (else $UDC_REDACTION_KEY)
    entities: list[str] | None = None  # None: every entity type
    mode: Mode = "token"
    phone_regions: list[str] = Field(default_factory=lambda: ["US", "GB"])
    allow_list: list[str] = Field(default_factory=list)
    # accounts that are no person, kept readable in free text: shell-style patterns matched against logins and
    # e-mail addresses (or their local part), added to the built-in role mailboxes and service-account shapes
    keep_accounts: list[str] = Field(default_factory=list)
    directory: bool = True  # read the source's user directory (sys_user, Jira users, Salesforce User/Contact)
    context_stream: bool = False  # stream 2: NER model, optional (pip install 'udc[ner]')
    # stream 2's model: an installed spaCy pipeline package's name, or a directory saved with nlp.to_disk; loaded
    # only when its files hash to ner_model_sha256 (see udc.redact.ner.model_digest), so no unvetted model runs
    ner_model: str | None = None
    ner_model_sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    tables: dict[str, TablePolicy] = Field(default_factory=dict)

    def modes(self) -> set[str]:
        """Every replacement mode the policy uses, its tables' and fields' included."""
        modes = {self.mode}
        for table in self.tables.values():
            modes |= {table.mode} if table.mode else set()
            modes |= {f.mode for f in table.fields.values() if f.mode}
        return {str(m) for m in modes}

    def needs_key(self) -> bool:
        return self.enabled and "token" in self.modes()


def check_policy(policy: RedactionConfig) -> None:
    """Every entity name and phone region of a policy checked, so a typo fails before any request (ConfigError)."""
    import phonenumbers  # a large import: only for a policy that is on

    for names in (policy.entities, *(t.entities for t in policy.tables.values()),
                  *(f.entities for t in policy.tables.values() for f in t.fields.values())):
        E.entity_set(names)
    unknown = [r for r in policy.phone_regions if r.upper() not in phonenumbers.SUPPORTED_REGIONS]
    if unknown:
        raise ConfigError(f"redaction.phone_regions: unknown region(s) {', '.join(unknown)}",
                          "use ISO 3166 two-letter codes such as US, GB, DE, FR, IN")


def redaction_key(policy: RedactionConfig) -> str:
    """The HMAC key of token mode: `redaction.key` (env:NAME or file:/path), else $UDC_REDACTION_KEY. ValueError when
    there is none or it is too short."""
    secret = policy.key.get_secret_value() if policy.key is not None else os.environ.get(KEY_ENV)
    if secret is not None:  # a reference read now (its validation was deferred), and scrubbed like every secret
        secret = str(resolve_secret(secret))
    if not secret:
        raise ValueError("redaction is on in token mode but no redaction key is set")
    if len(secret) < MIN_KEY_CHARS:
        raise ValueError(f"the redaction key is too short (at least {MIN_KEY_CHARS} characters)")
    return secret
