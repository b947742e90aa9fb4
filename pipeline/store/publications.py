"""The publication store contract: every query the program makes, behind one class.

Modelled on APScheduler 4's `DataStore`: the lifecycle's moves (acquire, claim, release
with an outcome, reap stale leases) are documented here as a contract, and one test suite
runs it on every backend (SQLite and PostgreSQL). The CLI, daemon, worker, feeds and the
console read and write only through it; no SQL lives outside `pipeline/store/`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, or_, select, update

from pipeline.errors import IllegalTransition, PublicationNotFound
from pipeline.publishing.states import Change, State, may_move
from pipeline.store.lifecycle import Tx, rows_changed
from pipeline.store.models import EssayRow, EventRow, PublicationRow
from pipeline.store.schema import Database


class PublicationStore(Database):
    """Typed access to essays, publications and events; each method is one transaction.

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
        with self.session() as session:
            query = select(EventRow).order_by(EventRow.id.desc()).limit(limit)
            if essay_id is not None:
                query = query.where(EventRow.essay_id == essay_id)
            return list(reversed(session.scalars(query).all()))

    def publication(self, pub_id: int) -> PublicationRow | None:
        with self.session() as session:
            return session.get(PublicationRow, pub_id)

    def essay(self, essay_id: int) -> EssayRow | None:
        with self.session() as session:
            return session.get(EssayRow, essay_id)

    def publications(self, states: set[State] | None = None) -> list[PublicationRow]:
        with self.session() as session:
            query = select(PublicationRow).order_by(PublicationRow.id)
            if states:
                query = query.where(PublicationRow.state.in_([s.value for s in states]))
            return list(session.scalars(query).all())

    def essays(self) -> list[EssayRow]:
        with self.session() as session:
            return list(session.scalars(select(EssayRow).order_by(EssayRow.id)).all())

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
