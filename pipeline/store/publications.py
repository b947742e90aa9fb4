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

- lifecycle: acquire a batch under a lease, claim one, release it with an outcome, reap
  stale leases, operator compare-and-set (`pipeline/publishing` makes these moves).

Two kinds of method:
- most open and commit their own short transaction, and return detached rows or values;
- those taking a `session` run inside the caller's transaction (like `add_event`), so a
  change and what follows from it commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, func, insert, literal, or_, select, tuple_, update
from sqlalchemy.orm import Session

from pipeline.errors import IllegalTransition, PublicationNotFound
from pipeline.publishing.states import Change, State, may_move
from pipeline.store.lifecycle import Tx, rows_changed
from pipeline.store.models import (
    EssayRow,
    EventRow,
    FeedEntryRow,
    HeartbeatRow,
    PublicationRow,
    UTCDateTime,
)
from pipeline.store.schema import Database
from pipeline.store.views import (
    DueTime,
    KnownEssay,
    PublicCopy,
    QueueQuery,
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


    The lifecycle contract (section "lifecycle"), what holds with any number of processes:
    - a publication is handed to one publisher at a time: `claim` and `acquire` take it by
      one conditional UPDATE (scheduled and due -> publishing), with a lease;
    - `reap` returns to scheduled only claims whose lease ran out (or all, when the caller
      knows no publisher runs); `give_back` only the caller's own claim;
    - `release` applies an attempt's outcome (`Change`) whole or not at all, and refuses a
      state that is no move out of `publishing` (`states.TRANSITIONS`);
    - `change_state` is an operator's compare-and-set: it changes nothing unless the row
      is, at the moment of writing, in a state the step works on.
    Several steps that must commit together use `transaction()` and its `Tx`.
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

    # -- the console's pages ---------------------------------------------------------

    def queue_page(self, query: QueueQuery) -> tuple[list[StatusRow], int]:
        """One keyset page of status rows (at most `query.size + 1`, so the caller sees
        whether more follow) and how many rows match the filters. Newest first by id, or by
        due time when a date range is given (the `due_at` index serves range and order);
        every page costs the same however deep it is."""
        conditions = _queue_conditions(query)
        keys = (PublicationRow.due_at, PublicationRow.id) if query.by_due else (PublicationRow.id,)
        rising = query.by_due == query.forward  # newest-first by id falls; by due time rises
        statement = _status_select().where(*conditions)
        if query.cursor is not None:
            if query.by_due:
                due, key = query.cursor
                left: ColumnElement[bool] = tuple_(*keys) > tuple_(
                    literal(due, UTCDateTime()), literal(key)
                )
                if not rising:
                    left = tuple_(*keys) < tuple_(literal(due, UTCDateTime()), literal(key))
            else:
                key = query.cursor[-1]
                left = PublicationRow.id > key if rising else PublicationRow.id < key
            statement = statement.where(left)
        statement = statement.order_by(*(k.asc() if rising else k.desc() for k in keys))
        with self.session() as session:
            rows = [StatusRow(*row) for row in session.execute(statement.limit(query.size + 1))]
            matching = session.scalar(
                select(func.count()).select_from(PublicationRow).where(*conditions)
            )
        return rows, int(matching or 0)

    def due_between(
        self, start: datetime, end: datetime, target: str | None, limit: int
    ) -> list[StatusRow]:
        """Status rows due in [start, end) (of one target if given), by due time, at most
        `limit`."""
        statement = (
            _status_select()
            .where(PublicationRow.due_at >= start, PublicationRow.due_at < end)
            .order_by(PublicationRow.due_at, PublicationRow.id)
        )
        if target:
            statement = statement.where(PublicationRow.target == target)
        with self.session() as session:
            return [StatusRow(*row) for row in session.execute(statement.limit(limit))]

    def publication_events(self, pub_id: int, limit: int = 500) -> list[EventRow]:
        """The newest `limit` events of one publication, oldest first."""
        statement = (
            select(EventRow)
            .where(EventRow.publication_id == pub_id)
            .order_by(EventRow.id.desc())
            .limit(limit)
        )
        with self.session() as session:
            return list(reversed(session.scalars(statement).all()))

    def publications_of_essay(self, essay_id: int) -> list[PublicationRow]:
        """One essay's publications, in id order."""
        statement = (
            select(PublicationRow)
            .where(PublicationRow.essay_id == essay_id)
            .order_by(PublicationRow.id)
        )
        with self.session() as session:
            return list(session.scalars(statement).all())

    def taken_due_times(self, target: str, since: datetime) -> list[datetime]:
        """Due times a target has taken from `since` on, cancelled and failed aside."""
        statement = select(PublicationRow.due_at).where(
            PublicationRow.target == target,
            PublicationRow.due_at >= since,
            PublicationRow.state.not_in([State.CANCELLED.value, State.FAILED.value]),
        )
        with self.session() as session:
            return [due for due in session.scalars(statement).all() if due is not None]

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
        base = _status_select()
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

    def set_by_id_modulo(self, modulus: int, remainders: Collection[int], values: Values) -> None:
        """For benchmarks: give every publication whose id modulo `modulus` is one of
        `remainders` these column values, in one UPDATE (a spread of states at scale)."""
        with self.engine.begin() as connection:
            connection.execute(
                update(PublicationRow)
                .where((PublicationRow.id % modulus).in_(list(remainders)))
                .values(dict(values))
            )

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

    # -- lifecycle -------------------------------------------------------------
    # The publishing lifecycle's moves (pipeline/publishing/). Each method is one
    # transaction; what it guarantees when several processes run it at once is stated on
    # it. `now` is always passed in: the store keeps no clock of its own.

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One transaction, committed when the block ends and rolled back if it raises."""
        with self.session() as session, session.begin():
            yield Tx(self, session)

    def due(self, now: datetime, limit: int = 100) -> list[int]:
        """Publications due at `now`, oldest first. A read: claim before acting on one."""
        with self.session() as session:
            return list(session.scalars(_due_ids(now).limit(limit)))

    def next_due(self) -> datetime | None:
        """The soonest due time of any scheduled publication, or None."""
        with self.session() as session:
            return session.scalars(
                select(PublicationRow.due_at)
                .where(PublicationRow.state == State.SCHEDULED.value)
                .order_by(PublicationRow.due_at)
                .limit(1)
            ).first()

    def claim(self, pub_id: int, worker: str, now: datetime, lease: timedelta) -> bool:
        """Take one due publication for `worker` until `now + lease`: scheduled -> publishing,
        one attempt more. Exactly one of any number of concurrent callers gets True; False
        when it is taken, not scheduled or not due yet."""
        with self.transaction() as tx:
            if not _take(tx, pub_id, worker, now, lease):
                return False
            row = tx.publication(pub_id)
            assert row is not None
            tx.row_event(
                "publication.publishing",
                row,
                attempt=row.attempts,
            )
        return True

    def acquire(self, limit: int, worker: str, now: datetime, lease: timedelta) -> list[int]:
        """Claim up to `limit` due publications at once (oldest first) for `worker`.

        On PostgreSQL the candidates are locked with `FOR UPDATE SKIP LOCKED`, so callers
        never wait on, or take, each other's rows; elsewhere the claim's conditional UPDATE
        (the same one `claim` runs) keeps every row to one winner. A row is never handed to
        two callers; a caller may get fewer than `limit` while more are due."""
        with self.transaction() as tx:
            query = _due_ids(now).limit(limit)
            if self.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            candidates = list(tx.session.scalars(query))
            claimed = [i for i in candidates if _take(tx, i, worker, now, lease)]
            for pub_id in claimed:
                tx.add_event("publication.publishing", publication_id=pub_id, worker=worker)
        return claimed

    def reap(self, now: datetime, every_lease: bool = False) -> list[PublicationRow]:
        """Publications left `publishing` past their lease (or all of them, when the caller
        knows no publisher runs) go back to scheduled, due at `now`, their journal kept so
        the next attempt looks a begun post up first. Returns the rows reaped; a lease still
        running is never touched."""
        with self.transaction() as tx:
            query = select(PublicationRow).where(PublicationRow.state == State.PUBLISHING.value)
            if not every_lease:
                query = query.where(PublicationRow.lease_until < now)
            rows = list(tx.session.scalars(query))
            for row in rows:
                row.state = State.SCHEDULED.value
                row.due_at = now
                row.claimed_by = None
                tx.row_event(
                    "publication.recovered",
                    row,
                    note="interrupted while publishing; will look it up first",
                )
        return rows

    def give_back(self, pub_id: int, worker: str, now: datetime, reason: str) -> bool:
        """`worker` returns a claim it holds: scheduled again, due now, journal kept. False
        (and nothing changed) when `worker` holds no claim on it."""
        with self.transaction() as tx:
            released = rows_changed(
                tx.session.execute(
                    update(PublicationRow)
                    .where(
                        PublicationRow.id == pub_id,
                        PublicationRow.state == State.PUBLISHING.value,
                        PublicationRow.claimed_by == worker,
                    )
                    .values(
                        state=State.SCHEDULED.value,
                        due_at=now,
                        claimed_by=None,
                        lease_until=None,
                        updated_at=now,
                    )
                )
            )
            if released:
                tx.add_event("publication.released", publication_id=pub_id, why=reason)
        return bool(released)

    def release(
        self,
        pub_id: int,
        change: Change,
        now: datetime,
        then: Callable[[Tx], list[int]] | None = None,
    ) -> list[int]:
        """Apply the outcome of one attempt: the new state and columns, the claim dropped,
        the event appended, and `then` run, all in one transaction (a crash leaves the old
        state or the whole new one). `last_error` is redacted. Returns what `then` returns.

        Refuses (IllegalTransition, nothing written) a state that is no move out of
        `publishing`; PublicationNotFound for an unknown id. The row's current state is not
        compared: a publisher whose lease was reaped still records what the platform
        answered, which is the truth; leases decide only who may start a send."""
        if not may_move(State.PUBLISHING, change.state):
            raise IllegalTransition(f"an attempt cannot leave a publication {change.state}")
        values: dict[str, object] = dict(change.values)
        if "last_error" in values and isinstance(values["last_error"], str):
            values["last_error"] = self.redact(values["last_error"])
        if change.gives_back_attempt:
            values["attempts"] = PublicationRow.attempts - 1
        with self.transaction() as tx:
            written = rows_changed(
                tx.session.execute(
                    update(PublicationRow)
                    .where(PublicationRow.id == pub_id)
                    .values(
                        state=change.state.value,
                        claimed_by=None,
                        lease_until=None,
                        updated_at=now,
                        **values,
                    )
                    .execution_options(synchronize_session=False)
                )
            )
            row = tx.publication(pub_id)  # read after the write: as this transaction left it
            if not written or row is None:
                raise PublicationNotFound(f"no publication {pub_id}")
            tx.row_event(
                change.event,
                row,
                **change.data,
            )
            return then(tx) if then is not None else []

    def save_progress(
        self, pub_id: int, progress: Mapping[str, object], now: datetime, lease: timedelta
    ) -> None:
        """Persist a publisher's journal and extend its lease: committed before the request
        it announces is sent, so a crash right after still finds the mark."""
        with self.transaction() as tx:
            tx.session.execute(
                update(PublicationRow)
                .where(PublicationRow.id == pub_id)
                .values(progress=dict(progress), lease_until=now + lease, updated_at=now)
            )

    def sent_recently(self, target: str, since: datetime) -> list[float]:
        """When `target`'s posts since `since` went out (epoch seconds), whichever process
        sent them: one entry per journaled post of a row touched since then. A row's
        `updated_at` moves on with every later step, so it is never earlier than the send:
        the window may hold a post a little longer than the platform does, never shorter."""
        with self.session() as session:
            rows = session.execute(
                select(PublicationRow.updated_at, PublicationRow.progress).where(
                    PublicationRow.target == target, PublicationRow.updated_at >= since
                )
            ).all()
        return [at.timestamp() for at, progress in rows for _ in (progress or {}).get("begun", [])]

    def change_state(
        self,
        pub_id: int,
        allowed: Collection[State],
        values: Mapping[str, object],
        now: datetime,
        *,
        needs_dependency: bool = False,
        edit: Callable[[Tx, PublicationRow], object] | None = None,
    ) -> Step:
        """An operator's move: set `values` only while the row is in one of `allowed`
        states, by one conditional UPDATE (compare and set), so a publisher's claim between
        a read and this write cannot slip through. With `needs_dependency`, also only while
        the row waits for no unpublished dependency. When it changed, `edit` runs in the
        same transaction. Returns the row as this transaction left it, whether it changed,
        and the row it waits for; PublicationNotFound for an unknown id."""
        conditions: list[ColumnElement[bool]] = [
            PublicationRow.id == pub_id,
            PublicationRow.state.in_([s.value for s in allowed]),
        ]
        if needs_dependency:
            published = select(PublicationRow.id).where(
                PublicationRow.state == State.PUBLISHED.value
            )
            conditions.append(
                or_(PublicationRow.depends_on.is_(None), PublicationRow.depends_on.in_(published))
            )
        with self.transaction() as tx:
            changed = rows_changed(
                tx.session.execute(
                    update(PublicationRow)
                    .where(*conditions)
                    .values(**values, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
            )
            row = tx.publication(pub_id)
            if row is None:
                raise PublicationNotFound(f"no publication {pub_id}")
            dependency = tx.publication(row.depends_on) if row.depends_on else None
            if changed == 1 and edit is not None:
                edit(tx, row)
        return Step(row, changed == 1, dependency)

    def resume_held(self, target: str, now: datetime) -> list[int]:
        """Publications of `target` parked by an account hold are due at `now`; their ids."""
        with self.transaction() as tx:
            result = tx.session.execute(
                update(PublicationRow)
                .where(
                    PublicationRow.target == target,
                    PublicationRow.state == State.SCHEDULED.value,
                    PublicationRow.last_error.like("held:%"),
                )
                .values(due_at=now, updated_at=now)
                .returning(PublicationRow.id)
            )
            return [row_id for (row_id,) in result]


class Step(NamedTuple):
    """What an operator's compare-and-set left: the row, whether it moved, its dependency."""

    row: PublicationRow
    changed: bool
    dependency: PublicationRow | None


def _due_ids(now: datetime) -> Select[int]:
    return (
        select(PublicationRow.id)
        .where(PublicationRow.state == State.SCHEDULED.value, PublicationRow.due_at <= now)
        .order_by(PublicationRow.due_at, PublicationRow.id)
    )


def _take(tx: Tx, pub_id: int, worker: str, now: datetime, lease: timedelta) -> bool:
    """The one claiming UPDATE (`claim` and `acquire` share it): scheduled and due ->
    publishing, for `worker`, one attempt more. True when this call won the row."""
    result = tx.session.execute(
        update(PublicationRow)
        .where(
            PublicationRow.id == pub_id,
            PublicationRow.state == State.SCHEDULED.value,
            PublicationRow.due_at <= now,
        )
        .values(
            state=State.PUBLISHING.value,
            claimed_by=worker,
            lease_until=now + lease,
            attempts=PublicationRow.attempts + 1,
            updated_at=now,
        )
    )
    return rows_changed(result) == 1


Store = PublicationStore  # the name the first releases used


def _status_select() -> Select[*tuple[Any, ...]]:
    """A status row's columns (the publication and its essay's title), unfiltered."""
    return select(
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
    ).join(EssayRow, EssayRow.id == PublicationRow.essay_id)


def _queue_conditions(query: QueueQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.state:
        conditions.append(PublicationRow.state == query.state)
    if query.target:
        conditions.append(PublicationRow.target == query.target)
    if query.essay is not None:
        conditions.append(PublicationRow.essay_id == query.essay)
    if query.since is not None:
        conditions.append(PublicationRow.due_at >= query.since)
    if query.until is not None:
        conditions.append(PublicationRow.due_at < query.until)
    return conditions
