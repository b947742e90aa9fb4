"""Intake is idempotent in the database: racing intakes and migration 0002, SQLite and PG.

Two engines (two connection pools, as two processes would have) are released together by a
barrier and hand the store the same file, or the same feed entry: every time exactly one
essay and one set of publications exists, and the other intake says "duplicate".
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import IntegrityError

from pipeline.publishing.intake import Intake
from pipeline.publishing.pipeline import Pipeline
from pipeline.readers import read_bytes
from pipeline.settings import Settings, TargetSettings
from pipeline.store import EssayRow, FeedEntryRow, PublicationRow, Store

REPEAT = 50
TARGETS = {
    "site": TargetSettings(platform="static_site"),
    "announce": TargetSettings(platform="outbox", after="site", options={"as": "mastodon"}),
}
VERSIONS = Path(__file__).resolve().parent.parent / "pipeline" / "migrations" / "versions"


@pytest.fixture
def engines(
    db_url: str,
    tmp_path: Path,
) -> Iterator[list[Pipeline]]:
    settings = Settings(database_url=db_url, targets=TARGETS)
    made = [Pipeline(tmp_path / f"home{n}", settings) for n in range(2)]
    yield made
    for engine in made:
        engine.close()


def essay_bytes(index: int) -> bytes:
    return f"---\ntitle: Raced essay {index}\n---\n\nThe body of essay {index}.\n".encode()


def race(calls: list[Callable[[], Intake]]) -> list[Intake]:
    """Run the calls on threads released together; every result, or the first error."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as exc:  # reported by the assertion below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    return results


def counts(engine: Pipeline, title: str) -> tuple[int, int]:
    with engine.store.session() as session:
        essays = session.scalars(select(EssayRow.id).where(EssayRow.title == title)).all()
        pubs = session.scalar(
            select(func.count())
            .select_from(PublicationRow)
            .where(PublicationRow.essay_id.in_(essays))
        )
    return len(essays), pubs or 0


def test_two_intakes_of_one_file_released_together_store_it_once(engines: list[Pipeline]) -> None:
    for index in range(REPEAT):
        data = essay_bytes(index)
        essay = read_bytes(Path(f"raced-{index}.md"), data)
        name = f"raced-{index}.md"
        intakes = race([lambda e=e, x=essay, d=data, n=name: e.add_essay(x, n, d) for e in engines])
        assert sorted(i.outcome for i in intakes) == ["duplicate", "new"], (index, intakes)
        assert intakes[0].essay_id == intakes[1].essay_id
        assert counts(engines[0], f"Raced essay {index}") == (1, len(TARGETS)), index
        assert sum(len(i.publications) for i in intakes) == len(TARGETS)


def test_two_polls_of_one_feed_entry_released_together_take_it_once(
    engines: list[Pipeline],
) -> None:
    feed = "https://blog.example.org/feed"
    for index in range(REPEAT):
        data = json.dumps({"feed": feed, "guid": f"g{index}", "i": index}).encode()
        essay = read_bytes(Path(f"entry-{index}.md"), essay_bytes(index))
        guid = f"g{index}"
        intakes = race(
            [
                lambda e=e, x=essay, d=data, g=guid: e.add_essay(
                    x, g, d, source="feed", feed_entry=(feed, g)
                )
                for e in engines
            ]
        )
        assert sorted(i.outcome for i in intakes) == ["duplicate", "new"], (index, intakes)
        assert counts(engines[0], f"Raced essay {index}") == (1, len(TARGETS)), index
    with engines[0].store.session() as session:
        entries = session.execute(select(FeedEntryRow.guid, FeedEntryRow.essay_id)).all()
    assert len(entries) == REPEAT and all(essay_id for _, essay_id in entries)


def test_the_store_refuses_a_second_essay_with_the_same_content(engines: list[Pipeline]) -> None:
    engine = engines[0]
    data = essay_bytes(1)
    engine.add_essay(read_bytes(Path("a.md"), data), "a.md", data)
    with pytest.raises(IntegrityError), engine.store.session() as session, session.begin():
        row = engine.store.essays()[0]
        session.add(
            EssayRow(
                slug="another-slug",
                title="Copy",
                content_hash=row.content_hash,
                source_name="b.md",
                essay_json=row.essay_json,
            )
        )


# ------------------------------------------------------------------------- migration 0002


def upgrade(url: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(VERSIONS.parent))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


def seed_duplicates(url: str) -> None:
    """Essays stored twice by two daemons before 0002, in every shape the race left them."""
    now = datetime.now(UTC)
    essays = [
        # id, slug, canonical, hash
        (1, "kept", None, "h1"),
        (2, "kept-too", None, "h1"),  # same content as 1, nothing sent
        (3, "kept", None, "h3"),  # same slug as 1 (an edit stored twice), one post sent
        (4, "alone", "https://blog.example.org/alone", "h4"),
        (5, "alone-again", "https://blog.example.org/alone", "h5"),  # same canonical URL
    ]
    pubs = [
        # id, essay, target, state, remote_id
        (1, 1, "site", "published", "r1"),
        (2, 1, "announce", "published", "r2"),
        (3, 2, "site", "scheduled", None),
        (4, 2, "announce", "planned", None),
        (5, 3, "site", "published", "r5"),
        (6, 3, "announce", "scheduled", None),
        (7, 4, "site", "scheduled", None),
        (8, 5, "site", "failed", None),
    ]
    engine = create_engine(url)
    with engine.begin() as db:
        for essay_id, slug, canonical, digest in essays:
            db.execute(
                text(
                    "INSERT INTO essays (id, slug, title, canonical_url, content_hash,"
                    " source_name, source, essay_json, version, created_at, updated_at)"
                    " VALUES (:i, :s, :t, :c, :h, 'x.md', 'inbox', '{}', 1, :n, :n)"
                ),
                {"i": essay_id, "s": slug, "t": f"Essay {essay_id}", "c": canonical, "h": digest}
                | {"n": now},
            )
        for pub_id, essay_id, target, state, remote in pubs:
            db.execute(
                text(
                    "INSERT INTO publications (id, essay_id, target, platform, state,"
                    " depends_on, offset_seconds, idempotency_key, attempts, remote_id,"
                    " needs_update, created_at, updated_at) VALUES (:i, :e, :t, 'outbox', :s,"
                    " :d, 0, :k, 0, :r, 0, :n, :n)"
                ),
                {
                    "i": pub_id,
                    "e": essay_id,
                    "t": target,
                    "s": state,
                    "d": pub_id - 1 if target == "announce" else None,
                    "k": f"key-{pub_id}",
                    "r": remote,
                    "n": now,
                },
            )
        db.execute(
            text(
                "INSERT INTO feed_entries (feed_url, guid, essay_id, seen_at)"
                " VALUES ('https://f.example/feed', 'g2', 2, :n)"
            ),
            {"n": now},
        )
    engine.dispose()


def test_migration_0002_resolves_stored_duplicates_without_posting_anything(
    db_url: str,
) -> None:
    upgrade(db_url, "0001")
    seed_duplicates(db_url)
    store = Store(db_url)  # starts as every command does: migrates to the head
    try:
        essays = {row.id: row for row in store.essays()}
        # nothing sent of 2 (same content as 1) and 5 (same URL as 4): gone, feed entry moved
        assert sorted(essays) == [1, 3, 4]
        states = {row.id: row.state for row in store.publications()}
        # 3 had a post out: kept as a record under keys that never match, the rest cancelled
        assert states == {
            1: "published",
            2: "published",
            5: "published",
            6: "cancelled",
            7: "scheduled",
        }
        assert essays[3].content_hash == "duplicate-3" and essays[3].slug == "kept--duplicate-3"
        assert (essays[1].slug, essays[1].content_hash) == ("kept", "h1")
        with store.session() as session:
            assert session.scalars(select(FeedEntryRow.essay_id)).all() == [1]
        kinds = {(e.kind, e.essay_id, e.publication_id) for e in store.events()}
        assert ("essay.merged", 1, None) in kinds and ("essay.merged", 4, None) in kinds
        assert ("publication.cancelled", 3, 6) in kinds and ("essay.duplicate", 3, None) in kinds
        with pytest.raises(IntegrityError), store.session() as session, session.begin():
            session.add(
                EssayRow(slug="new", title="t", content_hash="h1", source_name="y", essay_json="{}")
            )
    finally:
        store.close()
