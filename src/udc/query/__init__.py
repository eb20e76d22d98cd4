"""The knowledge graph's questions, composed from the store's graph reads (udc.store.base.GraphQueries): search,
related, changes before an incident, similar records, trends. Every answer is plain dicts and lists, for the CLI,
for Python callers and for the service."""

from udc.query.changes import changes
from udc.query.common import QueryError, resolve
from udc.query.related import related
from udc.query.search import search
from udc.query.similar import similar
from udc.query.trends import trends

__all__ = ["QueryError", "changes", "related", "resolve", "search", "similar", "trends"]
