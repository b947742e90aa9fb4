"""Scale: two `crosspost worker` processes on one PostgreSQL store share a backlog (each
publication published exactly once, none lost, both workers take part); a daemon over more
scheduled rows than it keeps timers for still fires what falls due; `status` of a large
store stays short."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from pipeline.daemon import MAX_JOBS
from pipeline.publishing.pipeline import Pipeline
from pipeline.readers import read_bytes
from pipeline.settings import load_settings
from pipeline.store import EssayRow, EventRow, PublicationRow, State, Store
from tests.daemon_helpers import (
    EXAMPLE,
    crosspost,
    make_home,
    start_daemon,
    start_worker,
    stop_daemon,
    stop_worker,
    wait_for,
)
from tests.emulators.latency_target import SlowMastodon
from tests.pg import throwaway_database

TOKEN = "scale-out-test-token"
BACKLOG = 200


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A database of this test's own: the workers publish every due row they find."""
    with throwaway_database("crosspost_scale") as url:
        yield url


@pytest.fixture
def platform() -> Iterator[SlowMastodon]:
    emulator = SlowMastodon(latency=0.005)
    emulator.add_account(TOKEN, "writer")
    with emulator:
        yield emulator


@pytest.mark.postgres
def test_two_workers_publish_a_backlog_once_each_and_lose_nothing(
    tmp_path: Path, pg_url: str, platform: SlowMastodon
) -> None:
    home = make_home(
        tmp_path,
        f"""
        timezone = "UTC"
        database_url = "{pg_url}"
        [targets.toot]
        platform = "mastodon"
        base_url = "{platform.base_url}"
        credentials = {{ access_token = "{TOKEN}" }}
        """,
    )
    later = datetime.now(UTC) + timedelta(hours=1)  # planned ahead, released once both run
    engine = Pipeline(home, load_settings(home), clock=lambda: later)
    text = EXAMPLE.read_text(encoding="utf-8")
    for index in range(BACKLOG):
        data = (
            text.replace("Own Your Archive", f"Own Your Archive {index}")
            .replace("own-your-archive", f"own-your-archive-{index}")
            .encode()
        )
        engine.add_essay(read_bytes(Path(f"e{index}.md"), data), f"e{index}.md", data)
    engine.close()

    workers = [start_worker(home, n) for n in range(2)]
    store = Store(pg_url)
    try:
        assert wait_for(
            lambda: all("worker started" in (home / f"worker-{n}.out").read_text() for n in (0, 1)),
            timeout=60,
        )
        with store.session() as session, session.begin():
            session.execute(update(PublicationRow).values(due_at=datetime.now(UTC)))
        done = wait_for(
            lambda: {r.state for r in store.publications()} == {State.PUBLISHED.value},
            timeout=180,
            every=0.2,
        )
        time.sleep(0.5)  # a duplicate sent late would show now
    finally:
        for proc in workers:
            stop_worker(proc)
    rows = store.publications()
    with store.session() as session:
        claimed = select(EventRow.publication_id, EventRow.data).where(
            EventRow.kind == "publication.publishing"
        )
        claims = [(pub_id, json.loads(data)) for pub_id, data in session.execute(claimed)]
    store.close()

    assert done, Counter(r.state for r in rows)
    assert len(rows) == BACKLOG
    statuses = platform.published()
    texts = Counter(s["text"] for s in statuses)
    assert len(statuses) == BACKLOG and set(texts.values()) == {1}  # once each, none lost
    assert {r.remote_id for r in rows} == {s["id"] for s in statuses}
    assert len(claims) == BACKLOG and {pub_id for pub_id, _ in claims} == {r.id for r in rows}
    by_worker = Counter(data["worker"] for _, data in claims)
    assert len(by_worker) == 2 and min(by_worker.values()) >= BACKLOG // 10, by_worker


# ------------------------------------------------------------ many rows, one daemon

OUTBOX_CONFIG = """
timezone = "UTC"
[targets.out0]
platform = "outbox"
[targets.out1]
platform = "outbox"
"""


def add_rows(home: Path, dues: list[datetime], states: list[str] | None = None) -> list[int]:
    """Essays and publications inserted in bulk, as a long-running instance accumulates."""
    essay = read_bytes(Path("x.md"), b"---\ntitle: Pending\n---\n\nSome text.\n")
    store = Store(f"sqlite:///{home / 'crosspost.db'}")
    now = datetime.now(UTC)
    with store.engine.begin() as conn:
        first = conn.scalar(select(EssayRow.id).order_by(EssayRow.id.desc()).limit(1)) or 0
        conn.execute(
            insert(EssayRow),
            [
                {
                    "slug": f"pending-{first + n}",
                    "title": f"Pending {first + n}",
                    "content_hash": uuid.uuid4().hex,
                    "source_name": "x.md",
                    "essay_json": essay.model_dump_json(),
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(1, len(dues) // 2 + 2)
            ],
        )
        conn.execute(
            insert(PublicationRow),
            [
                {
                    "essay_id": first + 1 + n // 2,
                    "target": f"out{n % 2}",
                    "platform": "outbox",
                    "state": (states or [])[n] if states else "scheduled",
                    "due_at": due,
                    "idempotency_key": uuid.uuid4().hex,
                    "last_error": "boom" if states and states[n] == "failed" else None,
                    "created_at": now,
                    "updated_at": now,
                }
                for n, due in enumerate(dues)
            ],
        )
        ids = list(conn.scalars(select(PublicationRow.id).order_by(PublicationRow.id)))
    store.close()
    return ids[-len(dues) :]


def test_a_daemon_over_more_rows_than_timers_fires_what_falls_due(tmp_path: Path) -> None:
    home = make_home(tmp_path, OUTBOX_CONFIG)
    assert crosspost(home, "status").returncode == 0  # creates the schema
    now = datetime.now(UTC)
    far = add_rows(home, [now + timedelta(minutes=10, seconds=n) for n in range(3 * MAX_JOBS)])
    daemon = start_daemon(home)
    try:
        log = home / "logs" / "crosspost.jsonl"  # written once the daemon is up
        assert wait_for(lambda: log.exists() and "daemon started" in log.read_text())
        soon = add_rows(home, [datetime.now(UTC) + timedelta(seconds=1)] * 4)  # as `reschedule`
        store = Store(f"sqlite:///{home / 'crosspost.db'}")
        try:
            fired = wait_for(
                lambda: all(store.publication(i).state == "published" for i in soon), timeout=30
            )
            waiting = {store.publication(i).state for i in (far[0], far[-1])}
        finally:
            store.close()
    finally:
        output = stop_daemon(daemon)
    assert fired, output
    assert waiting == {"scheduled"}
    started = next(
        json.loads(line)
        for line in (home / "logs" / "crosspost.jsonl").read_text().splitlines()
        if "daemon started" in line
    )
    assert started["jobs"] == MAX_JOBS  # the soonest only, not one timer per row


def test_status_of_a_large_store_shows_what_matters_and_counts_the_rest(tmp_path: Path) -> None:
    home = make_home(tmp_path, OUTBOX_CONFIG)
    assert crosspost(home, "status").returncode == 0
    now = datetime.now(UTC)
    states = ["scheduled"] * 600
    states[100:103] = ["failed"] * 3
    states[200:205] = ["published"] * 5
    ids = add_rows(home, [now + timedelta(minutes=n) for n in range(600)], states)
    result = crosspost(home, "status")
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line[:1].isdigit()]
    shown = {int(line.split()[0]) for line in rows if "publications (" not in line}
    assert {ids[n] for n in range(100, 103)} <= shown  # every failed row
    assert {ids[n] for n in range(200, 205)} <= shown  # the newest finished
    assert ids[0] in shown and ids[599] not in shown  # the next due, not the last
    assert len(shown) < 30
    assert "600 publications" in result.stdout and "3 failed" in result.stdout
    assert "592 scheduled" in result.stdout and "--all" in result.stdout
    everything = crosspost(home, "status", "--all").stdout
    assert len([line for line in everything.splitlines() if line[:1].isdigit()]) == 600
    assert len(json.loads(crosspost(home, "status", "--json").stdout)) == 600
