"""The publication store contract: the program's queries, behind one class.

Modelled on APScheduler 4's `DataStore`: each method's docstring says what it guarantees,
and one suite (tests/test_store_contract.py) runs every method on SQLite and PostgreSQL.
The CLI, daemon, feeds, health, POSSE pages and benchmarks read and write only through it
(tests/test_no_sql_outside_store.py fails on SQL anywhere else). The sections:

- reads: one essay, publication or event list by id or state;
- status: the rows `crosspost status` shows (typed `StatusRow`s, a large store
  summarised), counts per state, the stored essay a file already is;
- the daemon's timers: the scheduled publications due within a horizon;
- feeds: the guids already taken from a feed;
- the daemon's heartbeat: write it, read it;
- POSSE pages: the copies a site page lists, and scheduling the page's rewrite, in the
  caller's transaction;
- bulk writes: rows for benchmarks.

The lifecycle's moves (acquire a batch under a lease, claim one, release it with an
outcome, reap stale leases) join as their own section when the engine is split (issue 13);
until then they are the queries of `pipeline/engine.py`, the one file the no-SQL test still
excludes by name.

Two kinds of method:
- most open and commit their own short transaction, and return detached rows or values;
- those taking a `session` run inside the caller's transaction (like `add_event`), so a
  change and what follows from it commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from pipeline.publishing.states import State
from pipeline.store.models import EssayRow, EventRow, FeedEntryRow, HeartbeatRow, PublicationRow
from pipeline.store.schema import Database
from pipeline.store.views import (
    DueTime,
    KnownEssay,
    PublicCopy,
    StatusLimits,
    StatusPage,
    StatusRow,
)

BULK_BATCH = 10_000  # publications per INSERT in `bulk_insert`
DAEMON = "daemon"  # the heartbeat row's name: one daemon per store (the run lock)

# an essay or publication as plain column values, for the bulk writers
Values = Mapping[str, object]


class PublicationStore(Database):
    """Typed access to essays, publications, events, feed entries and the heartbeat.

    Guarantees, on SQLite and PostgreSQL alike: the schema is migrated when the store
    opens; times go in timezone-aware (a naive one is refused) and come back in UTC; a
    method without a `session` argument is one transaction, committed or rolled back before
    it returns, and the rows it returns are detached (reading them runs no query, changing
    them changes nothing stored); event payloads are redacted of the configured secrets.
    """

    # -- reads -----------------------------------------------------------------

    def events(self, essay_id: int | None = None, limit: int = 200) -> list[EventRow]:
        """The newest `limit` events (of one essay if given), oldest first."""
        with self.session() as session:
            query = select(EventRow).order_by(EventRow.id.desc()).limit(limit)
            if essay_id is not None:
                query = query.where(EventRow.essay_id == essay_id)
            return list(reversed(session.scalars(query).all()))

    def publication(self, pub_id: int) -> PublicationRow | None:
        """One publication by id; None when there is none."""
        with self.session() as session:
            return session.get(PublicationRow, pub_id)

    def essay(self, essay_id: int) -> EssayRow | None:
        """One essay by id; None when there is none."""
        with self.session() as session:
            return session.get(EssayRow, essay_id)

    def publications(self, states: set[State] | None = None) -> list[PublicationRow]:
        """Every publication (in `states`, if given), in id order."""
        with self.session() as session:
            query = select(PublicationRow).order_by(PublicationRow.id)
            if states:
                query = query.where(PublicationRow.state.in_([s.value for s in states]))
            return list(session.scalars(query).all())

    def essays(self) -> list[EssayRow]:
        """Every essay, in id order."""
        with self.session() as session:
            return list(session.scalars(select(EssayRow).order_by(EssayRow.id)).all())

    # -- status ----------------------------------------------------------------

    def status_rows(
        self, limits: StatusLimits, essay_id: int | None = None, everything: bool = False
    ) -> StatusPage:
        """The publications `status` shows, in id order, and the store's total count.

        One essay's rows, or every row when `everything` or the store holds at most
        `limits.show_all_up_to`. A larger store is summarised with indexed queries only:
        per state failed, awaiting-manual, publishing and planned, the first
        `limits.attention` rows; the `limits.soonest` scheduled rows due next; the
        `limits.recent` newest published and cancelled rows. `total` is then the count of
        every publication (the rows of the essay, for one essay).
        """
        columns = (
            PublicationRow.id,
            EssayRow.id.label("essay_id"),
            EssayRow.title,
            PublicationRow.target,
            PublicationRow.platform,
            PublicationRow.state,
            PublicationRow.due_at,
            PublicationRow.attempts,
            PublicationRow.remote_url,
            PublicationRow.last_error,
            PublicationRow.depends_on,
        )
        base = select(*columns).join(EssayRow, EssayRow.id == PublicationRow.essay_id)
        with self.session() as session:
            if essay_id is not None:
                query = base.where(PublicationRow.essay_id == essay_id)
                rows = [
                    StatusRow(*row) for row in session.execute(query.order_by(PublicationRow.id))
                ]
                return StatusPage(rows, len(rows))
            total = session.scalar(select(func.count()).select_from(PublicationRow)) or 0
            if everything or total <= limits.show_all_up_to:
                everyone = session.execute(base.order_by(PublicationRow.id))
                return StatusPage([StatusRow(*row) for row in everyone], total)
            by_state = PublicationRow.state
            parts = [
                base.where(by_state == s.value).order_by(PublicationRow.id).limit(limits.attention)
                for s in (State.FAILED, State.AWAITING_MANUAL, State.PUBLISHING, State.PLANNED)
            ]
            parts.append(
                base.where(by_state == State.SCHEDULED.value)
                .order_by(PublicationRow.due_at, PublicationRow.id)
                .limit(limits.soonest)
            )
            parts += [
                base.where(by_state == s.value)
                .order_by(PublicationRow.id.desc())
                .limit(limits.recent)
                for s in (State.PUBLISHED, State.CANCELLED)
            ]
            found = {row.id: StatusRow(*row) for part in parts for row in session.execute(part)}
            return StatusPage([found[key] for key in sorted(found)], total)

    def state_counts(self) -> dict[str, int]:
        """How many publications are in each state (states with none are left out)."""
        with self.session() as session:
            query = select(PublicationRow.state, func.count()).group_by(PublicationRow.state)
            return {state: count for state, count in session.execute(query).all()}

    def essay_known_as(self, slug: str, canonical_url: str | None) -> KnownEssay | None:
        """The stored essay with this slug or canonical URL (the newest, should both match
        different essays) and its publications by target; None when neither is stored."""
        conditions = [EssayRow.slug == slug]
        if canonical_url:
            conditions.append(EssayRow.canonical_url == canonical_url)
        with self.session() as session:
            row = session.scalars(
                select(EssayRow).where(or_(*conditions)).order_by(EssayRow.id.desc())
            ).first()
            if row is None:
                return None
            publications = session.scalars(
                select(PublicationRow).where(PublicationRow.essay_id == row.id)
            ).all()
            return KnownEssay(row.id, {p.target: p for p in publications})

    def publications_of_source(self, source_name: str) -> list[PublicationRow]:
        """The publications of the essays taken from the file (or feed guid) `source_name`."""
        with self.session() as session:
            query = (
                select(PublicationRow)
                .join(EssayRow, EssayRow.id == PublicationRow.essay_id)
                .where(EssayRow.source_name == source_name)
                .order_by(PublicationRow.id)
            )
            return list(session.scalars(query).all())

    def publications_by_id(self, ids: Iterable[int]) -> list[PublicationRow]:
        """The publications with these ids that exist, in id order."""
        with self.session() as session:
            query = select(PublicationRow).where(PublicationRow.id.in_(list(ids)))
            return list(session.scalars(query.order_by(PublicationRow.id)).all())

    # -- the daemon's timers -----------------------------------------------------

    def scheduled_by(self, horizon: datetime, limit: int) -> list[DueTime]:
        """The at most `limit` scheduled publications due by `horizon`, soonest first (ties
        by id): the daemon keeps one timer for each. One indexed query, whatever the size."""
        with self.session() as session:
            rows = session.execute(
                select(PublicationRow.id, PublicationRow.due_at)
                .where(
                    PublicationRow.state == State.SCHEDULED.value,
                    PublicationRow.due_at <= horizon,
                )
                .order_by(PublicationRow.due_at, PublicationRow.id)
                .limit(limit)
            ).all()
        return [DueTime(pub_id, due) for pub_id, due in rows if due is not None]

    def scheduled_among(self, ids: Iterable[int], horizon: datetime) -> list[DueTime]:
        """Those of `ids` that are scheduled and due by `horizon` (in no particular order)."""
        with self.session() as session:
            rows = session.execute(
                select(PublicationRow.id, PublicationRow.due_at).where(
                    PublicationRow.id.in_(list(ids)),
                    PublicationRow.state == State.SCHEDULED.value,
                    PublicationRow.due_at <= horizon,
                )
            ).all()
        return [DueTime(pub_id, due) for pub_id, due in rows if due is not None]

    # -- feeds -------------------------------------------------------------------

    def feed_guids(self, feed_url: str) -> set[str]:
        """The guids of the feed's entries already taken (each is taken once)."""
        with self.session() as session:
            query = select(FeedEntryRow.guid).where(FeedEntryRow.feed_url == feed_url)
            return set(session.scalars(query))

    # -- the daemon's heartbeat ----------------------------------------------------

    def heartbeat(self) -> HeartbeatRow | None:
        """The daemon's heartbeat row; None when no daemon ever ran on this store."""
        with self.session() as session:
            return session.get(HeartbeatRow, DAEMON)

    def write_heartbeat(
        self,
        *,
        state: str,
        reason: str | None,
        pid: int,
        host: str,
        started_at: datetime,
        beat_at: datetime,
        busy_ms: int,
    ) -> None:
        """Write the daemon's heartbeat row, made if missing. On SQLite a held write lock is
        waited for `busy_ms` only, then raised: a beat is reported late, never queued."""
        values = {
            "state": state,
            "reason": reason,
            "pid": pid,
            "host": host,
            "started_at": started_at,
            "beat_at": beat_at,
        }
        with self.engine.begin() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                connection.exec_driver_sql(f"PRAGMA busy_timeout={int(busy_ms)}")
            done = connection.execute(
                update(HeartbeatRow).where(HeartbeatRow.name == DAEMON).values(values)
            ).rowcount
            if not done:
                connection.execute(insert(HeartbeatRow).values(name=DAEMON, **values))
            if sqlite:
                connection.exec_driver_sql("PRAGMA busy_timeout=30000")

    # -- POSSE pages (in the caller's transaction) ---------------------------------

    def public_copies(self, session: Session, essay_id: int) -> list[PublicCopy]:
        """The essay's publications that have a URL and are not cancelled, by target name."""
        rows = session.execute(
            select(PublicationRow.target, PublicationRow.platform, PublicationRow.remote_url)
            .where(
                PublicationRow.essay_id == essay_id,
                PublicationRow.remote_url.is_not(None),
                PublicationRow.state != State.CANCELLED.value,
            )
            .order_by(PublicationRow.target)
        ).all()
        return [
            PublicCopy(target, platform, url) for target, platform, url in rows if url is not None
        ]

    def platforms_of_essay(self, session: Session, essay_id: int) -> list[tuple[int, str]]:
        """(id, platform) of each of the essay's publications."""
        rows = session.execute(
            select(PublicationRow.id, PublicationRow.platform).where(
                PublicationRow.essay_id == essay_id
            )
        ).all()
        return [(pub_id, platform) for pub_id, platform in rows]

    def lock_publications(self, session: Session, ids: Sequence[int]) -> list[PublicationRow]:
        """These publications, locked for the caller's transaction (`FOR UPDATE` on
        PostgreSQL; SQLite's single writer serialises anyway), in id order so two
        transactions locking overlapping sets cannot deadlock."""
        query = (
            select(PublicationRow)
            .where(PublicationRow.id.in_(list(ids)))
            .order_by(PublicationRow.id)
            .with_for_update()
        )
        return list(session.scalars(query))

    def schedule_update(
        self, session: Session, publication: PublicationRow, now: datetime, why: str
    ) -> None:
        """Schedule a published publication (locked by the caller) to be rewritten at `now`:
        scheduled, marked `needs_update`, with a `publication.scheduled` event saying why."""
        publication.state = State.SCHEDULED.value
        publication.needs_update = 1
        publication.due_at = now
        publication.updated_at = now
        self.add_event(
            session,
            "publication.scheduled",
            essay_id=publication.essay_id,
            publication_id=publication.id,
            target=publication.target,
            due=now,
            why=why,
        )

    # -- bulk writes (benchmarks) ----------------------------------------------------

    def bulk_insert(
        self, essays: Sequence[Values], publications: Iterable[tuple[int, Values]]
    ) -> None:
        """Insert essays and their publications in one transaction, fast (Core inserts of
        `BULK_BATCH` rows). Each publication names its essay by position in `essays`; the
        essays must be the first in the table (their ids are then contiguous)."""
        with self.engine.begin() as connection:
            connection.execute(insert(EssayRow), [dict(essay) for essay in essays])
            first = connection.execute(select(func.min(EssayRow.id))).scalar_one()
            batch: list[dict[str, object]] = []
            for index, values in publications:
                batch.append({**values, "essay_id": first + index})
                if len(batch) == BULK_BATCH:
                    connection.execute(insert(PublicationRow), batch)
                    batch = []
            if batch:
                connection.execute(insert(PublicationRow), batch)

    def insert_rows(
        self, essays: Sequence[Values], publications: Sequence[tuple[int, Values]]
    ) -> list[int]:
        """Insert essays and their publications (each naming its essay by position in
        `essays`) in one transaction, beside whatever else runs; returns the new
        publications' ids in the order given."""
        with self.session() as session, session.begin():
            essay_rows = [EssayRow(**essay) for essay in essays]
            session.add_all(essay_rows)
            session.flush()
            rows = [
                PublicationRow(**values, essay_id=essay_rows[index].id)
                for index, values in publications
            ]
            session.add_all(rows)
            session.flush()
            return [row.id for row in rows]

    def due_all_at(self, due_at: datetime) -> None:
        """Make every publication due at `due_at`, in one UPDATE (a benchmark's start)."""
        with self.session() as session, session.begin():
            session.execute(update(PublicationRow).values(due_at=due_at))


Store = PublicationStore  # the name the first releases used
