"""The store contract (pipeline/store/publications.py), method by method, on SQLite and on
PostgreSQL: what each method guarantees, checked on rows the store itself writes.

The lifecycle over the store (intake, claims, publishing, operator steps) is
tests/test_lifecycle.py.
"""

from __future__ import annotations

import ast
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError

from pipeline.store import (
    HEAD_REVISION,
    FeedEntryRow,
    State,
    StatusLimits,
    StatusRow,
    Store,
    create_private_file,
    migrate,
)
from pipeline.store import publications as publications_module
from pipeline.store.views import QueueQuery
from tests.store_backends import START

VERSIONS = Path(__file__).resolve().parent.parent / "pipeline" / "migrations" / "versions"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store(db_url)
    yield opened
    opened.close()


def essay(slug: str, **values: Any) -> dict[str, Any]:
    """An essay's column values, the rest defaulted."""
    return {
        "slug": slug,
        "title": values.pop("title", slug.title()),
        "content_hash": values.pop("content_hash", f"hash-{slug}"),
        "source_name": values.pop("source_name", f"{slug}.md"),
        "essay_json": "{}",
        "created_at": START,
        "updated_at": START,
        **values,
    }


def publication(target: str, state: State, due_at: datetime | None = START, **values: Any) -> dict:
    """A publication's column values, the rest defaulted."""
    return {
        "target": target,
        "platform": values.pop("platform", "outbox"),
        "state": state.value,
        "due_at": due_at,
        "idempotency_key": f"key-{target}-{state.value}-{due_at}",
        "created_at": START,
        "updated_at": START,
        **values,
    }


# --------------------------------------------------------------------------- migrations


def newest_revision() -> str:
    """The head of the chain in migrations/versions: the revision no other one revises."""
    revisions: dict[str, str | None] = {}
    for path in VERSIONS.glob("*.py"):
        values = {}
        for node in ast.parse(path.read_text()).body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id in {"revision", "down_revision"}
            ):
                values[node.targets[0].id] = ast.literal_eval(node.value)
        revisions[values["revision"]] = values.get("down_revision")
    heads = set(revisions) - set(revisions.values())
    assert len(heads) == 1, f"migrations do not form one chain: heads {heads}"
    return heads.pop()


def test_migrations_create_the_schema_and_apply_again_without_change(db_url: str) -> None:
    assert newest_revision() == HEAD_REVISION
    store = Store(db_url)
    try:
        tables = set(inspect(store.engine).get_table_names())
        assert {"essays", "publications", "events", "feed_entries", "alembic_version"} <= tables
        migrate(store.engine)  # the fast path: already current

        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(VERSIONS.parent))
        with store.engine.begin() as connection:  # alembic itself, past the fast path
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        with store.engine.connect() as connection:
            versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        assert versions == [(HEAD_REVISION,)]
        assert set(inspect(store.engine).get_table_names()) == tables
    finally:
        store.close()
    Store(db_url).close()  # a second start on the migrated database


def test_processes_starting_together_on_a_fresh_database_migrate_it_once(db_url: str) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    stores: list[Store] = []

    def start() -> None:
        barrier.wait()
        try:
            stores.append(Store(db_url))
        except BaseException as exc:  # collected and shown below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for store in stores:
        store.close()
    assert errors == []
    assert len(stores) == 4


# ------------------------------------------------------------------------------ status


def test_status_rows_list_a_small_store_whole_with_titles_in_id_order(store: Store) -> None:
    ids = store.insert_rows(
        [essay("one", title="One"), essay("two", title="Two")],
        [
            (1, publication("site", State.SCHEDULED, START + timedelta(hours=1))),
            (0, publication("site", State.PUBLISHED, remote_url="https://example.org/1")),
            (0, publication("toot", State.PLANNED, None, depends_on=None)),
        ],
    )
    limits = StatusLimits(show_all_up_to=10, attention=1, soonest=1, recent=1)
    page = store.status_rows(limits)
    assert page.total == 3 and [row.id for row in page.rows] == sorted(ids)
    first = page.rows[0]
    assert isinstance(first, StatusRow)
    assert (first.title, first.target, first.state) == ("Two", "site", "scheduled")
    assert first.due_at == START + timedelta(hours=1) and first.due_at.tzinfo is UTC
    assert page.rows[1].remote_url == "https://example.org/1"
    one = store.status_rows(limits, essay_id=page.rows[1].essay_id)
    assert [row.target for row in one.rows] == ["site", "toot"] and one.total == 2


def test_status_rows_summarise_a_large_store_and_list_it_whole_on_request(store: Store) -> None:
    soon, later = START + timedelta(minutes=5), START + timedelta(hours=5)
    rows = [
        publication("f1", State.FAILED),
        publication("f2", State.FAILED),
        publication("m1", State.AWAITING_MANUAL),
        publication("s-later", State.SCHEDULED, later),
        publication("s-soon", State.SCHEDULED, soon),
        publication("p1", State.PUBLISHED),
        publication("p2", State.PUBLISHED),
        publication("c1", State.CANCELLED),
    ]
    ids = store.insert_rows([essay("big")], [(0, row) for row in rows])
    by_target = dict(zip([row["target"] for row in rows], ids, strict=True))
    limits = StatusLimits(show_all_up_to=5, attention=1, soonest=1, recent=1)
    page = store.status_rows(limits)
    assert page.total == 8
    shown = [row.target for row in page.rows]
    # the first failed, the awaiting one, the soonest scheduled, the newest published, the
    # cancelled one, in id order
    assert shown == ["f1", "m1", "s-soon", "p2", "c1"]
    assert [row.id for row in page.rows] == sorted(by_target[t] for t in shown)
    everything = store.status_rows(limits, everything=True)
    assert [row.id for row in everything.rows] == ids and everything.total == 8


def test_state_counts_count_each_state_present(store: Store) -> None:
    assert store.state_counts() == {}
    store.insert_rows(
        [essay("e")],
        [(0, publication(t, s)) for t, s in [("a", State.FAILED), ("b", State.FAILED)]]
        + [(0, publication("c", State.PUBLISHED))],
    )
    assert store.state_counts() == {"failed": 2, "published": 1}


def test_essay_known_as_finds_by_slug_or_canonical_url_the_newest_first(store: Store) -> None:
    store.insert_rows(
        [essay("first"), essay("second", canonical_url="https://blog.example.org/second")],
        [(0, publication("site", State.PUBLISHED)), (1, publication("toot", State.PLANNED))],
    )
    by_slug = store.essay_known_as("first", None)
    assert by_slug is not None and list(by_slug.publications) == ["site"]
    by_url = store.essay_known_as("renamed", "https://blog.example.org/second")
    assert by_url is not None and by_url.publications["toot"].state == "planned"
    both = store.essay_known_as("first", "https://blog.example.org/second")
    assert both is not None and both.essay_id == by_url.essay_id  # the newer essay
    assert store.essay_known_as("unknown", None) is None
    assert store.essay_known_as("unknown", "https://elsewhere.example/") is None


def test_publications_by_source_and_by_id_come_in_id_order(store: Store) -> None:
    ids = store.insert_rows(
        [essay("a", source_name="a.md"), essay("b", source_name="b.md")],
        [
            (0, publication("x", State.PUBLISHED)),
            (1, publication("y", State.SCHEDULED)),
            (0, publication("z", State.SCHEDULED)),
        ],
    )
    assert [row.target for row in store.publications_of_source("a.md")] == ["x", "z"]
    assert store.publications_of_source("nothing.md") == []
    assert [row.id for row in store.publications_by_id([ids[2], ids[0], 999])] == [
        ids[0],
        ids[2],
    ]


# ------------------------------------------------------------------------------ reads


def test_reads_return_detached_rows_and_events_oldest_first(store: Store) -> None:
    ids = store.insert_rows(
        [essay("e")], [(0, publication("a", State.FAILED)), (0, publication("b", State.PLANNED))]
    )
    essay_id = store.essays()[0].id
    with store.session() as session, session.begin():
        for n in range(3):
            store.add_event(session, f"kind.{n}", essay_id=essay_id, publication_id=ids[0], n=n)
        store.add_event(session, "other", essay_id=None)
    assert [e.kind for e in store.events(essay_id)] == ["kind.0", "kind.1", "kind.2"]
    assert [e.kind for e in store.events(limit=2)] == ["kind.2", "other"]
    assert store.publication(ids[1]).target == "b"  # detached: readable after the session
    assert store.publication(999) is None and store.essay(999) is None
    assert store.essay(essay_id).slug == "e"
    assert [p.id for p in store.publications({State.PLANNED})] == [ids[1]]
    assert [p.id for p in store.publications()] == ids


def test_events_are_redacted_before_they_are_written(db_url: str) -> None:
    store = Store(db_url, secrets=["s3cret-token", ""])
    try:
        with store.session() as session, session.begin():
            store.add_event(session, "said", detail="token s3cret-token leaked")
        assert "s3cret-token" not in store.events()[0].data
        assert "[redacted]" in store.events()[0].data
    finally:
        store.close()


def test_times_come_back_in_utc_and_naive_times_are_refused(store: Store) -> None:
    tokyo = datetime(2025, 6, 3, 9, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    [pub_id] = store.insert_rows([essay("e")], [(0, publication("a", State.SCHEDULED, tokyo))])
    row = store.publication(pub_id)
    assert row.due_at == tokyo and row.due_at.tzinfo is UTC and row.due_at.hour == 0
    with pytest.raises(Exception, match="naive datetime"):
        store.insert_rows(
            [essay("f")], [(0, publication("b", State.SCHEDULED, datetime(2025, 1, 1)))]
        )
    assert [p.id for p in store.publications()] == [pub_id]  # the refused one left nothing


# ------------------------------------------------------------------------ daemon timers


def test_scheduled_by_gives_the_soonest_due_within_the_horizon(store: Store) -> None:
    horizon = START + timedelta(hours=1)
    rows = [
        publication("late", State.SCHEDULED, START + timedelta(minutes=30)),
        publication("tie-a", State.SCHEDULED, START + timedelta(minutes=10)),
        publication("tie-b", State.SCHEDULED, START + timedelta(minutes=10)),
        publication("beyond", State.SCHEDULED, START + timedelta(hours=2)),
        publication("failed", State.FAILED, START),
        publication("planned", State.PLANNED, None),
    ]
    ids = store.insert_rows([essay("e")], [(0, row) for row in rows])
    due = store.scheduled_by(horizon, limit=10)
    assert [d.pub_id for d in due] == [ids[1], ids[2], ids[0]]
    assert due[0].due_at == START + timedelta(minutes=10) and due[0].due_at.tzinfo is UTC
    assert [d.pub_id for d in store.scheduled_by(horizon, limit=2)] == [ids[1], ids[2]]
    among = store.scheduled_among([ids[0], ids[3], ids[4]], horizon)
    assert among == [(ids[0], START + timedelta(minutes=30))]
    assert store.scheduled_among([], horizon) == []


# -------------------------------------------------------------------------------- feeds


def test_feed_guids_are_those_taken_from_that_feed(store: Store) -> None:
    assert store.feed_guids("https://medium.com/feed/@a") == set()
    with store.session() as session, session.begin():
        session.add_all(
            [
                FeedEntryRow(feed_url="https://medium.com/feed/@a", guid="g1", essay_id=None),
                FeedEntryRow(feed_url="https://medium.com/feed/@a", guid="g2", essay_id=None),
                FeedEntryRow(feed_url="https://medium.com/feed/@b", guid="g3", essay_id=None),
            ]
        )
    assert store.feed_guids("https://medium.com/feed/@a") == {"g1", "g2"}


# ---------------------------------------------------------------------------- heartbeat


def beat(store: Store, state: str, at: datetime, reason: str | None = None) -> None:
    store.write_heartbeat(
        state=state, reason=reason, pid=42, host="here", started_at=START, beat_at=at, busy_ms=500
    )


def test_the_heartbeat_row_is_made_once_then_updated(store: Store) -> None:
    assert store.heartbeat() is None
    beat(store, "running", START)
    later = START + timedelta(seconds=2)
    beat(store, "unhealthy", later, "database is locked")
    row = store.heartbeat()
    assert row is not None
    assert (row.state, row.reason, row.pid, row.host) == (
        "unhealthy",
        "database is locked",
        42,
        "here",
    )
    assert row.beat_at == later and row.beat_at.tzinfo is UTC and row.started_at == START
    with store.session() as session:
        assert session.query(type(row)).count() == 1


def test_a_heartbeat_on_a_locked_sqlite_database_gives_up_instead_of_queueing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "crosspost.db"
    store = Store(f"sqlite:///{path}")
    holder = sqlite3.connect(path, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            beat(store, "running", START)  # waits busy_ms (0.5 s), not the usual 30 s
        assert time.monotonic() - started < 15
        holder.rollback()
        beat(store, "running", START)  # the lock gone, the next beat lands
        assert store.heartbeat() is not None
    finally:
        holder.close()
        store.close()


# ------------------------------------------------------------------------- POSSE pages


def test_public_copies_lock_and_schedule_an_update_in_the_callers_transaction(
    store: Store,
) -> None:
    ids = store.insert_rows(
        [essay("e")],
        [
            (0, publication("site", State.PUBLISHED, platform="static_site")),
            (0, publication("toot", State.PUBLISHED, remote_url="https://m.example/1")),
            (0, publication("bsky", State.PUBLISHED, remote_url="https://b.example/2")),
            (0, publication("gone", State.CANCELLED, remote_url="https://g.example/3")),
            (0, publication("later", State.SCHEDULED)),
        ],
    )
    essay_id = store.essays()[0].id
    now = START + timedelta(hours=1)
    with store.session() as session, session.begin():
        copies = store.public_copies(session, essay_id)
        assert copies == [
            ("bsky", "outbox", "https://b.example/2"),
            ("toot", "outbox", "https://m.example/1"),
        ]
        platforms = store.platforms_of_essay(session, essay_id)
        assert sorted(platforms) == sorted(
            zip(ids, ["static_site", "outbox", "outbox", "outbox", "outbox"], strict=True)
        )
        [page] = store.lock_publications(session, [ids[0]])
        store.schedule_update(session, page, now, why="copies changed")
    row = store.publication(ids[0])
    assert (row.state, row.needs_update, row.due_at, row.updated_at) == ("scheduled", 1, now, now)
    event = store.events()[-1]
    assert (event.kind, event.publication_id, event.essay_id) == (
        "publication.scheduled",
        ids[0],
        essay_id,
    )
    assert "copies changed" in event.data
    with store.session() as session:
        locked = store.lock_publications(session, [ids[2], ids[0]])
        assert [p.id for p in locked] == [ids[0], ids[2]]


# ------------------------------------------------------------------------ bulk writes


def test_bulk_insert_links_each_publication_to_its_essay_across_batches(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publications_module, "BULK_BATCH", 3)
    essays = [essay(f"load-{i}") for i in range(4)]
    store.bulk_insert(essays, ((n // 2, publication(f"t{n}", State.SCHEDULED)) for n in range(8)))
    by_essay = {e.id: e.slug for e in store.essays()}
    rows = store.publications()
    assert len(rows) == 8
    assert [(by_essay[row.essay_id], row.target) for row in rows] == [
        (f"load-{n // 2}", f"t{n}") for n in range(8)
    ]


def test_due_all_at_moves_every_publication(store: Store) -> None:
    store.insert_rows([essay("e")], [(0, publication(t, State.SCHEDULED)) for t in ("a", "b", "c")])
    moved = START + timedelta(days=1)
    store.due_all_at(moved)
    assert {row.due_at for row in store.publications()} == {moved}


# --------------------------------------------------------------------------- the file


def test_the_sqlite_file_is_created_private_and_made_private_again(tmp_path: Path) -> None:
    path = tmp_path / "crosspost.db"
    create_private_file(f"sqlite:///{path}")
    assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    create_private_file(f"sqlite:///{path}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    create_private_file("sqlite://")  # in memory: nothing to make
    create_private_file("postgresql+psycopg://postgres@127.0.0.1:5432/x")
    assert sorted(os.listdir(tmp_path)) == ["crosspost.db"]


@pytest.mark.postgres
def test_the_run_lock_is_taken_once_and_its_holder_named(pg_database: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from pipeline.store.advisory import advisory_holder, try_advisory_lock

    key = 7270399  # not the run lock's own key: a daemon elsewhere must not collide
    engines = [
        create_engine(pg_database, poolclass=NullPool, connect_args={"application_name": name})
        for name in ("first holder", "second")
    ]
    first, second = (e.connect().execution_options(isolation_level="AUTOCOMMIT") for e in engines)
    try:
        assert advisory_holder(second, key) is None
        assert try_advisory_lock(first, key)
        assert not try_advisory_lock(second, key)
        holder = advisory_holder(second, key)
        assert holder is not None and holder.application_name == "first holder"
        assert holder.backend_start is not None and holder.database in pg_database
    finally:
        for connection in (first, second):
            connection.close()
        for engine in engines:
            engine.dispose()


# ------------------------------------------------------------------ the console's reads


def test_queue_pages_by_keyset_visit_every_matching_row_once_in_both_orders(
    store: Store,
) -> None:
    rows = [
        publication(
            f"t{n}", State.FAILED if n % 3 == 0 else State.SCHEDULED, START + timedelta(hours=n % 5)
        )
        for n in range(23)
    ]
    store.insert_rows([essay("paged")], [(0, row) for row in rows])
    for by_due in (False, True):
        seen: list[int] = []
        cursor: tuple[Any, ...] | None = None
        while True:
            query = QueueQuery(state="scheduled", cursor=cursor, by_due=by_due, size=4)
            page, matching = store.queue_page(query)
            assert matching == 15
            seen += [row.id for row in page[:4]]
            if len(page) <= 4:
                break
            last = page[3]
            cursor = (last.due_at, last.id) if by_due else (last.id,)
        assert len(seen) == len(set(seen)) == 15
        if not by_due:
            assert seen == sorted(seen, reverse=True)  # newest first


def test_calendar_window_events_and_taken_times_read_what_was_written(store: Store) -> None:
    rows = [
        publication("blog", State.SCHEDULED, START + timedelta(hours=1)),
        publication("social", State.CANCELLED, START + timedelta(hours=2)),
        publication("social2", State.SCHEDULED, START + timedelta(days=3)),
    ]
    ids = store.insert_rows([essay("window")], [(0, row) for row in rows])
    window = store.due_between(START, START + timedelta(days=1), None, 10)
    assert [row.id for row in window] == ids[:2]
    assert [row.id for row in store.due_between(START, START + timedelta(days=1), "blog", 10)] == [
        ids[0]
    ]
    assert store.taken_due_times("social", START) == []  # cancelled takes no slot
    assert store.taken_due_times("blog", START) == [START + timedelta(hours=1)]
    essay_id = store.publication(ids[0]).essay_id  # type: ignore[union-attr]
    assert [p.id for p in store.publications_of_essay(essay_id)] == ids
    with store.session() as session, session.begin():
        store.add_event(session, "attempt", publication_id=ids[1], note="one")
        store.add_event(session, "published", publication_id=ids[1], note="two")
        store.add_event(session, "attempt", publication_id=ids[0])
    assert [e.kind for e in store.publication_events(ids[1])] == ["attempt", "published"]
