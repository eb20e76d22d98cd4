"""The deletion census: for a source whose search cannot show deletions (Jira), list every id per scope (a
project) now and then, and tombstone the stored records missing from the listing.

It runs at the start of an incremental cycle when due (`census_every` after the last one, kept in the pipeline's
state under CENSUS_KEY). The listing completes before anything is written; the tombstones and the census's time
then commit in one transaction through the normal page write (graph links and the search index drop them as for any
delete), so a crash mid-census writes nothing and the next cycle runs it again.

False deletes are worse than late ones: a candidate is tombstoned only after Jira answers 404 for it (an offset
listing skips an issue when another is deleted mid-listing), and a census that would delete more than half of a
project's stored records, or that lists none of a project that has stored records (lost permission, a renamed
project), is refused whole unless the user confirms (`udc sync --confirm-deletes`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from udc.sources.base import Census
from udc.store import PageWrite, Store
from udc.timeutil import cursor_str, parse_time

log = logging.getLogger("udc.census")

CENSUS_KEY = "census:issues"  # the census's state row under its pipeline
MAX_SHARE = 0.5  # of a scope's stored records: a census that would delete more is refused unless confirmed


@dataclass
class CensusResult:
    listed: int = 0  # ids the source listed
    deleted: int = 0  # records tombstoned (children included)
    refused: list[str] = field(default_factory=list)  # why it wrote nothing, per scope


def census_due(store: Store, pipeline: str, source: Census, now: datetime) -> bool:
    if not source.census_every or source.census_dataset() is None:
        return False
    state = store.get_state(pipeline, CENSUS_KEY)
    return state is None or parse_time(state["at"]) + source.census_every <= now


def run_census(source: Census, store: Store, pipeline: str, run_id: int, now: datetime, confirm: bool = False
               ) -> CensusResult:
    """List, compare, and (unless refused) tombstone in one write with the census's time; see the module's doc."""
    dataset = source.census_dataset()
    assert dataset is not None
    result = CensusResult()
    held: dict[str, dict[str, str]] = {}  # scope → stored pk → its cursor (read before the listing: see below)
    for pk, cursor, scope in store.live_keys(dataset, source.census_field):
        held.setdefault(scope.upper(), {})[pk] = cursor
    # a record stored before the listing began exists in it unless deleted since: so nothing stored is missed
    listed = {scope: source.census_ids(scope) for scope in source.census_scopes()} if held else {}
    result.listed = sum(len(ids) for ids in listed.values())
    seen = set().union(*listed.values()) if listed else set()  # an issue moved between listed projects is no delete
    missing: dict[str, str] = {}
    for scope, ids in listed.items():
        stored = held.get(scope.upper(), {})
        gone = {pk: cursor for pk, cursor in stored.items() if pk not in seen}
        if stored and not ids:
            result.refused.append(
                f"project {scope} listed no issue, yet {len(stored)} are stored: the account may have lost the "
                "Browse Projects permission, or the project was renamed or removed")
        elif len(gone) > MAX_SHARE * len(stored):
            result.refused.append(f"project {scope}: {len(gone)} of its {len(stored)} stored issues are missing "
                                  f"from Jira's listing (more than {MAX_SHARE:.0%})")
        missing.update(gone)
    if result.refused and not confirm:
        for reason in result.refused:
            log.warning("%s: deletion census refused, nothing deleted: %s; check the account's access, then run "
                        "`udc sync --pipeline %s --confirm-deletes` if these issues really were deleted",
                        pipeline, reason, pipeline)
        return result
    # the tombstone is at the stored version's cursor: a later version (an issue moved back into sight) still wins
    tombstones = sorted((pk, cursor) for pk, cursor in missing.items() if not source.still_exists(pk))
    children = source.census_children()
    if children and tombstones:
        child_dataset, parent_field = children
        dead = {pk for pk, _ in tombstones}
        orphans = sorted((pk, cursor) for pk, cursor, parent in store.live_keys(child_dataset, parent_field)
                         if parent in dead)
        if orphans:  # before the parents' write: a crash between leaves the census due, so the next cycle ends it
            result.deleted += store.write(PageWrite(child_dataset, tombstones=orphans), run_id).deleted
    state = (pipeline, CENSUS_KEY, {"at": cursor_str(now), "listed": result.listed, "deleted": len(tombstones)})
    result.deleted += store.write(PageWrite(dataset, tombstones=tombstones, state=state), run_id).deleted
    if tombstones:
        log.info("%s: deletion census: %d of %d stored issues were deleted in Jira", pipeline, len(tombstones),
                 sum(len(s) for s in held.values()))
    return result


__all__ = ["CENSUS_KEY", "CensusResult", "census_due", "run_census"]
