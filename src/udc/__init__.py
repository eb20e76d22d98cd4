"""udc — unified data connector. `udc.open("udc.yaml")` answers the knowledge graph's questions (udc.api)."""

from udc.api import KnowledgeGraph, open
from udc.version import __version__

__all__ = ["KnowledgeGraph", "__version__", "open"]
