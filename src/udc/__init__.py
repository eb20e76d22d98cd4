"""udc — unified data connector. `udc.open("udc.yaml")` answers the knowledge graph's questions (udc.api)."""

from typing import TYPE_CHECKING, Any

from udc.version import __version__

if TYPE_CHECKING:
    from udc.api import KnowledgeGraph, open


def __getattr__(name: str) -> Any:
    """`udc.open` and `udc.KnowledgeGraph` load the config, store and query code when first asked for, not with every
    `import udc.<module>` (the store's writer child and each CLI command start faster)."""
    if name in ("open", "KnowledgeGraph"):
        import udc.api

        return getattr(udc.api, name)
    raise AttributeError(f"module 'udc' has no attribute {name!r}")


__all__ = ["KnowledgeGraph", "__version__", "open"]
