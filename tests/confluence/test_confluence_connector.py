"""The Confluence streams over HTTP against the simulator: ties across page boundaries, short pages, the /wiki
prefix, CQL minute boundaries in half-hour zones and across DST, de-duplication by (id, version), bodies by id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from confluence_helpers import SimFactory, read_all, source_for

from udc.errors import ConfigError
from udc.records import Position, Window
from udc.simulators.base import Request
from udc.sources.confluence import storage_text
from udc.timeutil import cursor_str

T0 = datetime(2024, 1, 15, 18, 0, 30, 500000, tzinfo=UTC)
WIDE = Window(None, T0 + timedelta(days=1))


def test_ties_across_page_boundaries_and_short_pages_lose_nothing(make_sim: SimFactory) -> None:
    """Twelve pages share one millisecond (CQL breaks ties by descending id), restricted pages make pages short:
    every visible page comes exactly once, in (lastmodified, id) order, and bodies come from v2 by id."""
    sim = make_sim(pages=0, now=T0)
    made = [sim.create("page", "OPS", f"tie {n}", at=T0 - timedelta(minutes=5)) for n in range(12)]
    hidden = [sim.create("page", "ENG", f"secret {n}", at=T0 - timedelta(minutes=4), restricted=True)
              for n in range(5)]
    later = [sim.create("page", "ENG", f"later {n}", at=T0 - timedelta(minutes=3, seconds=n)) for n in range(4)]
    source = source_for(sim, batch_size=5)
    records = read_all(source, "pages", WIDE)
    ids = [r["id"] for r in records]
    assert sorted(ids) == sorted(str(p.id) for p in made + later) and len(ids) == len(set(ids))
    assert not {str(p.id) for p in hidden} & set(ids)
    assert [(r["updated"], int(r["id"])) for r in records] == sorted((r["updated"], int(r["id"])) for r in records)
    by_id = {r["id"]: r for r in records}
    assert by_id[str(made[0].id)]["body"] == "<p>tie 0</p>" and by_id[str(made[0].id)]["body_text"] == "tie 0"
    searches = [r for r in sim.requests if r.path == "/wiki/rest/api/content/search"]
    assert any(not r.arg("cursor") and r.arg("limit") == "5" for r in searches)
    assert any(r.path == "/wiki/api/v2/pages" and r.arg("id") for r in sim.requests)  # bodies by id, from v2
    assert any(r.arg("cursor") for r in searches)  # a v1 next link (relative to the /wiki context) stepped over ties
    source.close()


@pytest.mark.parametrize("deployment", ["cloud", "server"])
def test_a_resume_after_every_position_reads_exactly_the_rest(make_sim: SimFactory, deployment: str) -> None:
    """A crash after any page: reading again from the position stored with it yields exactly what came after it
    (ties in one millisecond and in one minute included), on a server that caps its limit."""
    sim = make_sim(deployment, pages=0, now=T0, server_limit_cap=4)
    for n in range(24):
        sim.create("page", "OPS" if n % 2 else "ENG", f"p{n}",
                   at=T0 - timedelta(minutes=10) + timedelta(seconds=10 * (n // 6), milliseconds=n % 3))
    source = source_for(sim, batch_size=5)
    stream = next(s for s in source.streams() if s.name == "pages")
    pages = list(stream.read(WIDE, None))
    order = [r["id"] for p in pages for r in p.records]
    assert sorted(order) == sorted(sim.snapshot("page")) and len(order) == 24
    done = 0
    for page in pages:
        done += len(page.records)
        if page.position is not None:
            rest = [r["id"] for p in stream.read(WIDE, page.position) for r in p.records]
            assert rest == order[done:]
    source.close()


def test_next_links_are_joined_without_doubling_wiki(make_sim: SimFactory) -> None:
    """v2 returns fewer than asked: the body fetch follows its `next` link (which holds /wiki) as given."""
    sim = make_sim(pages=0, spaces=[f"S{n}" for n in range(6)], v2_page_cap=4, now=T0)
    for n in range(30):
        sim.create("page", f"S{n % 6}", f"page {n}", at=T0 - timedelta(hours=1, seconds=n))
    source = source_for(sim, space_keys=[f"S{n}" for n in range(6)], batch_size=7)
    assert len(read_all(source, "pages", WIDE)) == 30
    assert not any(r.path.startswith("/wiki/wiki") for r in sim.requests)
    assert any(r.path == "/wiki/api/v2/pages" and r.arg("cursor") for r in sim.requests)
    source.close()


def test_a_base_url_with_wiki_is_refused_with_the_fix(make_sim: SimFactory) -> None:
    sim = make_sim(pages=0)
    source = source_for(sim)
    source.connector = source.connector.model_copy(update={"base_url": sim.url + "/wiki"})
    with pytest.raises(ConfigError, match="ends in /wiki") as caught:
        source.streams()
    assert caught.value.hint == f"give the site origin: base_url: {sim.url} (udc adds /wiki itself)"


@pytest.mark.parametrize("zone,cursor", [
    ("America/St_Johns", datetime(2024, 1, 15, 18, 0, 30, 500000, tzinfo=UTC)),  # UTC−3:30
    ("Asia/Kolkata", datetime(2024, 1, 15, 7, 0, 30, 500000, tzinfo=UTC)),  # UTC+5:30
    ("America/St_Johns", datetime(2024, 11, 3, 4, 29, 40, tzinfo=UTC)),  # 01:59:40 NDT, just before fall-back
    ("America/St_Johns", datetime(2024, 3, 10, 5, 29, 40, tzinfo=UTC)),  # 01:59:40 NST, just before spring-forward
])
@pytest.mark.parametrize("deployment", ["cloud", "server"])
def test_windows_split_at_a_mid_minute_cursor_lose_and_double_nothing(make_sim: SimFactory, zone: str,
                                                                      cursor: datetime, deployment: str) -> None:
    """Pages edited in the cursor's minute, just before and after it, and an hour on (DST): two windows split at
    the cursor together hold each page exactly once; a naive UTC literal would lose some."""
    sim = make_sim(deployment, tz=zone, pages=0, now=cursor + timedelta(hours=3))
    offsets_ms = [-3_600_000, -70_000, -20_000, -1, 0, 1, 15_000, 29_000, 45_000, 61_000, 3_600_000, 3_900_000]
    made = {str(sim.create("page", "OPS" if n % 2 else "ENG", f"p{n}", at=cursor + timedelta(milliseconds=ms)).id): ms
            for n, ms in enumerate(offsets_ms)}
    source = source_for(sim, batch_size=3)
    first = read_all(source, "pages", Window(cursor - timedelta(hours=3), cursor))
    second = read_all(source, "pages", Window(cursor, cursor + timedelta(hours=3)), Position(cursor_str(cursor)))
    assert sorted(r["id"] for r in first) == sorted(i for i, ms in made.items() if ms < 0)
    assert sorted(r["id"] for r in second) == sorted(i for i, ms in made.items() if ms >= 0)
    cqls = [r.arg("cql") or "" for r in sim.requests if r.path.endswith("/content/search") and r.arg("cql")]
    assert any('lastmodified >= "' in c for c in cqls)
    naive = cursor.strftime("%Y/%m/%d %H:%M")
    assert not any(f'lastmodified >= "{naive}"' in c for c in cqls)  # the bound is in the zone, not UTC
    source.close()


@pytest.mark.parametrize("deployment", ["cloud", "server"])
def test_an_unknown_zone_widens_the_overlap_and_loses_nothing(make_sim: SimFactory, deployment: str) -> None:
    cursor = datetime(2024, 1, 15, 7, 0, 30, 500000, tzinfo=UTC)
    sim = make_sim(deployment, tz="Asia/Kolkata", pages=0, now=cursor + timedelta(hours=3))
    sim.expose_time_zone = False
    made = {str(sim.create("page", "OPS", f"p{ms}", at=cursor + timedelta(milliseconds=ms)).id): ms
            for ms in (-61_000, -1, 0, 1, 20_000, 61_000)}
    source = source_for(sim, batch_size=2)
    first = read_all(source, "pages", Window(cursor - timedelta(hours=3), cursor))
    second = read_all(source, "pages", Window(cursor, cursor + timedelta(hours=3)), Position(cursor_str(cursor)))
    assert sorted(r["id"] for r in first) == sorted(i for i, ms in made.items() if ms < 0)
    assert sorted(r["id"] for r in second) == sorted(i for i, ms in made.items() if ms >= 0)
    assert any("time zone" in note and "widened" in note for note in source.notes)
    source.close()


def test_an_edit_between_search_and_fetch_is_kept_once_at_its_newest_version(make_sim: SimFactory) -> None:
    """A page edited after the CQL page listed it, before its body is fetched: its record carries the fetched
    (newest) version and body, once."""
    sim = make_sim(pages=0, now=T0)
    page = sim.create("page", "OPS", "moving", at=T0 - timedelta(hours=2))

    def edit(request: Request) -> None:
        if request.path == "/wiki/api/v2/pages" and page.version == 1:
            sim.update(page.id, at=T0 - timedelta(minutes=1), body="<p>edited</p>")

    sim.on_request = edit
    source = source_for(sim)
    records = read_all(source, "pages", Window(None, T0 - timedelta(hours=1)))
    assert [(r["id"], r["version"], r["body_text"]) for r in records] == [(str(page.id), 2, "edited")]
    source.close()


def test_atlas_doc_format_bodies_keep_plain_text_beside_them(make_sim: SimFactory) -> None:
    sim = make_sim(pages=0, now=T0)
    sim.create("page", "OPS", "adf", "<p>First line</p><p>Second, see OPS-12</p>", at=T0 - timedelta(hours=1))
    source = source_for(sim, body_format="atlas_doc_format")
    (record,) = read_all(source, "pages", WIDE)
    assert record["body_format"] == "atlas_doc_format" and record["body"].startswith("{")
    assert record["body_text"] == "First line\n\nSecond, see OPS-12"
    source.close()


def test_storage_text() -> None:
    assert storage_text("<h1>Title</h1><p>a &amp; b</p><ul><li>one</li><li>two</li></ul>") == \
        "Title\na & b\none\ntwo"
