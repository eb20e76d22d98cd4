"""What a source type brings to udc: its configuration models, and how to build, discover and diagnose it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from udc.config import Config, ConnectorBase, Pipeline
from udc.config.model import type_of
from udc.sources.base import Source
from udc.sources.diagnostics import Finding

C = TypeVar("C", bound=ConnectorBase)
P = TypeVar("P", bound=Pipeline)


@dataclass(frozen=True)
class SourcePlugin(Generic[C, P]):
    """One source type. `connector_model` and `options_model` are the ones `udc.config.SOURCES` lists for it."""

    connector_model: type[C]
    options_model: type[P]
    build: Callable[[Config, str], Source]  # (config, pipeline name): the pipeline's Source
    # (connector name, connector, options, table): table → {field: its type at the source} (fields for `table` only)
    discover: Callable[[str, C, P, str | None], dict[str, dict[str, str]]]
    # (connector name, connector, options): `udc check`'s findings; None: the type has no checks yet
    check: Callable[[str, C, P], list[Finding]] | None
    key: str  # the source's own key field (`sys_id`, `id`, `Id`): what a bare tombstone is exported under

    @property
    def type(self) -> str:
        return type_of(self.connector_model)

    def tables(self, options: P) -> list[str]:
        """The tables a pipeline syncs, known without asking the source: those it lists, or the type's defaults."""
        return [table.name for table in options.synced_tables]

    def default_options(self, connector: str) -> P:
        """The options of a pipeline that names only its connector (discover, and check when no pipeline uses it)."""
        return self.options_model.model_validate({"connector": connector})
