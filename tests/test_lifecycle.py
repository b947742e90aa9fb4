"""The publishing lifecycle over a real store: intake, claims, publishing, operator steps.

Every test drives a real `Pipeline` over a real database (the same tests on SQLite and on
PostgreSQL) with a controlled clock and local targets only (a static site, an outbox, and
a Mastodon account on a closed port when a publication must fail). The store's own
contract, method by method, is tests/test_store_contract.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from pipeline.publishing.pipeline import Pipeline
from pipeline.publishing.wiring import LEASE
from pipeline.readers import read_bytes
from pipeline.settings import Settings, TargetSettings
from pipeline.store import PublicationRow, State, Store
from tests.store_backends import START, Clock, closed_port

ESSAY = """---
title: {title}
---

Every platform that hosts your essays is a landlord. {extra}

## Why

A URL you own is a URL you can keep alive.
"""


def essay_bytes(title: str = "Own Your Archive", extra: str = "") -> bytes:
    return ESSAY.format(title=title, extra=extra).encode()


EngineFactory = Callable[..., Pipeline]


@pytest.fixture
def make_engine(db_url: str, tmp_path: Path) -> Iterator[EngineFactory]:
    """Engines over the test's database, sharing one clock unless given another."""
    made: list[Pipeline] = []
    clock = Clock()

    def build(
        targets: dict[str, dict[str, Any]], shared_clock: Clock | None = None, **settings: Any
    ) -> Pipeline:
        config = Settings(
            database_url=db_url,
            targets={name: TargetSettings(**spec) for name, spec in targets.items()},
            **settings,
        )
        engine = Pipeline(tmp_path / "home", config, clock=shared_clock or clock)
        made.append(engine)
        return engine

    build.clock = clock  # type: ignore[attr-defined]
    yield build
    for engine in made:
        engine.close()


def add(engine: Pipeline, title: str = "Own Your Archive", extra: str = "") -> Any:
    data = essay_bytes(title, extra)
    return engine.add_essay(read_bytes(Path("essay.md"), data), "essay.md", data)


def rows_by_target(engine: Pipeline) -> dict[str, PublicationRow]:
    return {row.target: row for row in engine.store.publications()}


def event_kinds(engine: Pipeline, pub_id: int) -> list[str]:
    return [e.kind for e in engine.store.events(limit=1000) if e.publication_id == pub_id]


SITE = {"platform": "static_site"}
ANNOUNCE = {"platform": "outbox", "after": "site", "options": {"as": "mastodon"}}


# ------------------------------------------------------------------------------ intake


def test_new_essay_plans_each_target_with_a_stored_idempotency_key(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine(
        {"site": SITE, "announce": ANNOUNCE, "later": {"platform": "outbox", "offset": "1h"}}
    )
    intake = add(engine)
    assert intake.outcome == "new" and len(intake.publications) == 3
    rows = rows_by_target(engine)
    assert rows["site"].state == "scheduled" and rows["site"].due_at == START
    assert rows["later"].state == "scheduled" and rows["later"].due_at == START + timedelta(hours=1)
    assert rows["announce"].state == "planned" and rows["announce"].due_at is None
    assert rows["announce"].depends_on == rows["site"].id
    keys = [row.idempotency_key for row in rows.values()]
    assert all(keys) and len(set(keys)) == 3
    assert all(row.attempts == 0 for row in rows.values())
    reopened = Store(engine.store.url)  # keys are in the database before any request
    try:
        assert {r.target: r.idempotency_key for r in reopened.publications()} == {
            t: r.idempotency_key for t, r in rows.items()
        }
    finally:
        reopened.close()
    kinds = [e.kind for e in engine.store.events(intake.essay_id)]
    assert kinds == ["publication.planned"] * 3 + ["essay.added"]


def test_same_content_is_a_duplicate_and_an_edited_essay_updates_in_place(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine({"site": SITE, "announce": ANNOUNCE})
    first = add(engine)
    site = rows_by_target(engine)["site"]
    assert engine.publish(site.id) is State.PUBLISHED
    url = engine.store.publication(site.id).remote_url

    again = add(engine)
    assert again.outcome == "duplicate" and again.essay_id == first.essay_id
    assert again.publications == []
    assert len(engine.store.essays()) == 1 and len(engine.store.publications()) == 2

    edited = add(engine, extra="Rent is cheap until it is not.")
    assert edited.outcome == "updated" and edited.essay_id == first.essay_id
    assert edited.publications == []
    essay = engine.store.essay(first.essay_id)
    assert essay.version == 2 and "Rent is cheap" in essay.essay_json
    site = engine.store.publication(site.id)
    assert (site.state, site.needs_update, site.due_at) == ("scheduled", 1, START)
    assert engine.publish(site.id) is State.PUBLISHED
    site = engine.store.publication(site.id)
    assert site.remote_url == url and site.needs_update == 0
    page = Path(url.removeprefix("file://")).read_text()
    assert "Rent is cheap until it is not." in page
    assert "publication.updated" in event_kinds(engine, site.id)


# ------------------------------------------------------------------------------- claim


def test_two_engines_racing_for_one_publication_claim_it_exactly_once(
    make_engine: EngineFactory,
) -> None:
    first = make_engine({"site": SITE})
    second = make_engine({"site": SITE})
    pub_id = add(first).publications[0]
    trials = 25
    for trial in range(trials):
        barrier = threading.Barrier(2)
        won: list[bool] = []

        def race(
            engine: Pipeline, barrier: threading.Barrier = barrier, won: list[bool] = won
        ) -> None:
            barrier.wait()
            won.append(engine.claim(pub_id))

        threads = [threading.Thread(target=race, args=(e,)) for e in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(won) == [False, True], f"trial {trial}: {won}"
        assert first.store.publication(pub_id).state == "publishing"
        assert first.recover(all_leases=True) == [pub_id]
    row = first.store.publication(pub_id)
    assert row.attempts == trials  # one claim counted per trial, never two
    assert event_kinds(first, pub_id).count("publication.publishing") == trials


def test_claim_takes_only_a_due_scheduled_publication(make_engine: EngineFactory) -> None:
    engine = make_engine(
        {"site": SITE, "announce": ANNOUNCE, "later": {"platform": "outbox", "offset": "1h"}}
    )
    add(engine)
    rows = rows_by_target(engine)
    assert not engine.claim(rows["later"].id)  # not due yet
    assert not engine.claim(rows["announce"].id)  # planned: waits for the site's URL
    assert engine.claim(rows["site"].id)
    assert not engine.claim(rows["site"].id)  # already publishing
    assert engine.due() == []


def test_recover_returns_only_stale_publishing_rows_to_scheduled(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine({"site": SITE})
    clock = make_engine.clock  # type: ignore[attr-defined]
    pub_id = add(engine).publications[0]
    assert engine.claim(pub_id)
    clock.advance(minutes=5)
    assert engine.recover() == []  # the lease still runs: a live worker may be sending
    assert engine.store.publication(pub_id).state == "publishing"
    clock.advance(seconds=LEASE.total_seconds())
    assert engine.recover() == [pub_id]
    row = engine.store.publication(pub_id)
    assert (row.state, row.due_at, row.claimed_by) == ("scheduled", clock.at, None)
    assert event_kinds(engine, pub_id)[-1] == "publication.recovered"
    assert engine.due() == [pub_id]


# ----------------------------------------------------------------------------- publish


def test_published_row_has_its_url_and_releases_dependents_at_their_due_time(
    make_engine: EngineFactory,
    tmp_path: Path,
) -> None:
    engine = make_engine({"site": SITE, "announce": {**ANNOUNCE, "offset": "30m"}})
    clock = make_engine.clock  # type: ignore[attr-defined]
    add(engine)
    rows = rows_by_target(engine)
    assert engine.due() == [rows["site"].id]
    clock.advance(minutes=1)
    assert engine.publish(rows["site"].id) is State.PUBLISHED
    site = engine.store.publication(rows["site"].id)
    assert site.remote_url and site.remote_url.startswith("file://")
    assert Path(site.remote_url.removeprefix("file://")).is_file()
    assert site.published_at == clock.at and site.last_error is None
    announce = engine.store.publication(rows["announce"].id)
    assert announce.state == "scheduled"
    assert announce.due_at == clock.at + timedelta(minutes=30)
    assert engine.due() == []
    clock.advance(minutes=30)
    assert engine.due() == [announce.id]
    assert engine.publish(announce.id) is State.PUBLISHED
    posted = list((tmp_path / "home" / "outbox" / "announce").glob("*.json"))
    assert len(posted) == 1 and site.remote_url in posted[0].read_text()
    assert event_kinds(engine, site.id) == [
        "publication.planned",
        "publication.publishing",
        "publication.published",
    ]
    assert event_kinds(engine, announce.id) == [
        "publication.planned",
        "publication.scheduled",
        "publication.publishing",
        "publication.published",
    ]


def test_unreachable_platform_is_retried_later_then_given_up(make_engine: EngineFactory) -> None:
    toot = {
        "platform": "mastodon",
        "base_url": f"http://127.0.0.1:{closed_port()}",
        "credentials": {"access_token": "store-test-token"},
    }
    engine = make_engine({"toot": toot}, max_attempts=2, retry_base_seconds=10)
    clock = make_engine.clock  # type: ignore[attr-defined]
    pub_id = add(engine).publications[0]
    assert engine.publish(pub_id) is State.SCHEDULED
    row = engine.store.publication(pub_id)
    assert row.attempts == 1 and "cannot reach" in row.last_error
    assert START + timedelta(seconds=5) <= row.due_at <= START + timedelta(seconds=10)
    assert engine.due() == []  # backing off, not hammering
    clock.advance(seconds=10)
    assert engine.publish(pub_id) is State.FAILED
    row = engine.store.publication(pub_id)
    assert row.state == "failed" and "gave up after 2 attempts" in row.last_error
    assert "next step" in row.last_error
    assert event_kinds(engine, pub_id) == [
        "publication.planned",
        "publication.publishing",
        "publication.retry",
        "publication.publishing",
        "publication.failed",
    ]


# ------------------------------------------------------------------------ operator steps


def test_operator_retry_cancel_and_reschedule_follow_the_state_rules(
    make_engine: EngineFactory,
) -> None:
    toot = {
        "platform": "mastodon",
        "base_url": f"http://127.0.0.1:{closed_port()}",
        "credentials": {"access_token": "store-test-token"},
    }
    engine = make_engine({"site": SITE, "toot": toot}, max_attempts=1)
    clock = make_engine.clock  # type: ignore[attr-defined]
    add(engine)
    rows = rows_by_target(engine)
    site, toot_id = rows["site"].id, rows["toot"].id
    assert engine.publish(site) is State.PUBLISHED
    assert engine.publish(toot_id) is State.FAILED

    retried = engine.retry(toot_id)
    assert (retried.state, retried.due_at, retried.attempts) == ("scheduled", clock.at, 0)
    assert engine.due() == [toot_id]
    assert engine.cancel(toot_id).state == "cancelled"
    assert engine.due() == []
    with pytest.raises(ValueError, match="is cancelled; this works on"):
        engine.cancel(toot_id)

    berlin = datetime(2025, 6, 2, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # 10:00 UTC
    moved = engine.reschedule(toot_id, berlin)
    assert moved.state == "scheduled"
    assert engine.store.publication(toot_id).due_at == datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
    assert engine.due() == []
    clock.at = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
    assert engine.due() == [toot_id]

    for step in (engine.retry, engine.cancel, lambda i: engine.reschedule(i, clock.at)):
        with pytest.raises(ValueError, match="is published"):
            step(site)
    with pytest.raises(LookupError, match="no publication 999"):
        engine.retry(999)
    assert engine.store.publication(site).state == "published"
    assert event_kinds(engine, toot_id)[-4:] == [
        "publication.failed",
        "publication.retry-requested",
        "publication.cancelled",
        "publication.rescheduled",
    ]


def test_confirm_records_a_hand_off_url_and_releases_its_dependents(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine(
        {"patrons": {"platform": "outbox"}, "announce": {"platform": "outbox", "after": "patrons"}}
    )
    add(engine)
    rows = rows_by_target(engine)
    patrons, announce = rows["patrons"].id, rows["announce"].id
    with pytest.raises(ValueError, match="this works on: awaiting-manual"):
        engine.confirm(patrons, "https://www.patreon.com/posts/1")
    with engine.store.session() as session, session.begin():  # as a hand-off leaves it
        session.execute(
            update(PublicationRow)
            .where(PublicationRow.id == patrons)
            .values(state=State.AWAITING_MANUAL.value)
        )
    with pytest.raises(ValueError, match="not an http"):
        engine.confirm(patrons, "ftp://example.org/post")
    assert engine.store.publication(announce).state == "planned"

    row = engine.confirm(patrons, "https://www.patreon.com/posts/1")
    assert (row.state, row.remote_url, row.published_at) == (
        "published",
        "https://www.patreon.com/posts/1",
        START,
    )
    dependent = engine.store.publication(announce)
    assert (dependent.state, dependent.due_at) == ("scheduled", START)
    assert event_kinds(engine, patrons)[-1] == "publication.confirmed"
    assert event_kinds(engine, announce)[-1] == "publication.scheduled"


def test_a_post_waiting_for_the_blogs_url_is_not_moved_ahead_of_it(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine({"site": SITE, "announce": ANNOUNCE})
    add(engine)
    rows = rows_by_target(engine)
    site, announce = rows["site"].id, rows["announce"].id
    clock = make_engine.clock  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match=f"waits for publication {site} \\(site\\)"):
        engine.reschedule(announce, clock.at)
    assert engine.store.publication(announce).state == "planned"
    engine.cancel(announce)
    retried = engine.retry(announce)  # the blog is not out yet: back to waiting for it
    assert (retried.state, retried.due_at) == ("planned", None)
    assert engine.publish(site) is State.PUBLISHED
    assert engine.store.publication(announce).state == "scheduled"


# ---------------------------------------------------------------------------- time zones


def test_timestamps_come_back_timezone_aware_in_utc(make_engine: EngineFactory) -> None:
    engine = make_engine({"site": SITE})
    pub_id = add(engine).publications[0]
    tokyo = datetime(2025, 6, 3, 9, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    engine.reschedule(pub_id, tokyo)
    reopened = Store(engine.store.url)
    try:
        row = reopened.publication(pub_id)
        with reopened.session() as session:
            due_raw = session.scalars(select(PublicationRow.due_at)).one()
        stamps = [
            row.due_at,
            row.created_at,
            row.updated_at,
            due_raw,
            *(e.at for e in reopened.events()),
            reopened.essays()[0].created_at,
        ]
        assert all(stamp.utcoffset() == timedelta(0) for stamp in stamps), stamps
        assert all(stamp.tzinfo is UTC for stamp in stamps)
        assert row.due_at == tokyo and row.due_at.hour == 0  # 09:30 JST is 00:30 UTC
        assert row.created_at == START
        with (
            pytest.raises(Exception, match="naive datetime"),
            reopened.session() as session,
            session.begin(),
        ):
            session.execute(update(PublicationRow).values(due_at=datetime(2025, 1, 1)))
    finally:
        reopened.close()
