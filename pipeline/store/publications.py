"""The publication store contract: every query the program makes, behind one class.

Modelled on APScheduler 4's `DataStore`: the lifecycle's moves (acquire, claim, release
with an outcome, reap stale leases) are documented here as a contract, and one test suite
runs it on every backend (SQLite and PostgreSQL). The CLI, daemon, worker, feeds and the
console read and write only through it; no SQL lives outside `pipeline/store/`.
"""

from __future__ import annotations

from sqlalchemy import select

from pipeline.publishing.states import State
from pipeline.store.models import EssayRow, EventRow, PublicationRow
from pipeline.store.schema import Database


class PublicationStore(Database):
    """Typed access to essays, publications and events; each method is one transaction."""

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


Store = PublicationStore  # the name the first releases used
