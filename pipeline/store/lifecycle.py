"""One transaction's view of the lifecycle tables, for moves made of several steps.

Intake (look for the essay, write it, plan its rows), the release of dependents and the
operator steps each read and write several rows that must commit together. They get a
`Tx` from `PublicationStore.transaction()` and call its methods; the SQL stays here. A
`Tx` lives only as long as its transaction: rows it returns may be changed through it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.publishing.states import State
from pipeline.store.models import EssayRow, FeedEntryRow, PublicationRow

if TYPE_CHECKING:
    from pipeline.store.publications import PublicationStore

# A unique key (content hash, slug, canonical URL, feed guid) taken by a concurrent writer:
# raised by a write or at commit; the caller looks again.
Conflict = IntegrityError


class Tx:
    """The caller's open transaction: typed reads and writes, events appended in it."""

    def __init__(self, store: PublicationStore, session: Session) -> None:
        self.store = store
        self.session = session

    def add_event(
        self,
        kind: str,
        *,
        essay_id: int | None = None,
        publication_id: int | None = None,
        **data: object,
    ) -> None:
        self.store.add_event(
            self.session, kind, essay_id=essay_id, publication_id=publication_id, **data
        )

    def row_event(self, kind: str, row: PublicationRow, **data: object) -> None:
        """Append an event about one publication (its essay, id and target filled in)."""
        self.add_event(
            kind, essay_id=row.essay_id, publication_id=row.id, target=row.target, **data
        )

    # -- reads -----------------------------------------------------------------

    def publication(self, pub_id: int) -> PublicationRow | None:
        return self.session.get(PublicationRow, pub_id)

    def essay(self, essay_id: int) -> EssayRow | None:
        return self.session.get(EssayRow, essay_id)

    def feed_entry(self, feed_url: str, guid: str) -> FeedEntryRow | None:
        """The feed entry already taken, if any (unique per feed and guid)."""
        return self.session.scalars(
            select(FeedEntryRow).where(FeedEntryRow.feed_url == feed_url, FeedEntryRow.guid == guid)
        ).first()

    def essays_matching(self, digest: str, slug: str, canonical_url: str | None) -> list[EssayRow]:
        """Essays sharing the content hash, the slug or the canonical URL: one query, so an
        intake committing between two looks cannot be half-seen."""
        conditions = [EssayRow.content_hash == digest, EssayRow.slug == slug]
        if canonical_url:
            conditions.append(EssayRow.canonical_url == canonical_url)
        return list(self.session.scalars(select(EssayRow).where(or_(*conditions))))

    def publications_of(self, essay_id: int) -> list[PublicationRow]:
        return list(
            self.session.scalars(select(PublicationRow).where(PublicationRow.essay_id == essay_id))
        )

    def waiting_on(self, pub_id: int) -> list[PublicationRow]:
        """Planned publications that wait for `pub_id` (its URL)."""
        return list(
            self.session.scalars(
                select(PublicationRow).where(
                    PublicationRow.depends_on == pub_id,
                    PublicationRow.state == State.PLANNED.value,
                )
            )
        )

    def open_for_missing(self, targets: Collection[str]) -> list[PublicationRow]:
        """Planned or scheduled publications whose target is not among `targets`."""
        return list(
            self.session.scalars(
                select(PublicationRow).where(
                    PublicationRow.state.in_([State.PLANNED.value, State.SCHEDULED.value]),
                    PublicationRow.target.not_in(list(targets)),
                )
            )
        )

    def booked(self, targets: Collection[str]) -> dict[str, list[datetime]]:
        """Due times taken per target (cancelled and failed rows free theirs)."""
        rows = self.session.execute(
            select(PublicationRow.target, PublicationRow.due_at).where(
                PublicationRow.target.in_(list(targets)),
                PublicationRow.due_at.is_not(None),
                PublicationRow.state.not_in([State.CANCELLED.value, State.FAILED.value]),
            )
        ).all()
        booked: dict[str, list[datetime]] = {}
        for target, due in rows:
            if due is not None:
                booked.setdefault(target, []).append(due)
        return booked

    # -- writes ----------------------------------------------------------------

    def add_essay(self, **values: object) -> EssayRow:
        """Insert an essay; a racing intake's row makes this raise IntegrityError (the
        content hash, slug and canonical URL are unique)."""
        row = EssayRow(**values)
        self.session.add(row)
        self.session.flush()
        return row

    def add_publication(self, **values: object) -> PublicationRow:
        row = PublicationRow(**values)
        self.session.add(row)
        self.session.flush()
        return row

    def add_feed_entry(self, feed_url: str, guid: str, essay_id: int | None, now: datetime) -> None:
        self.session.add(FeedEntryRow(feed_url=feed_url, guid=guid, essay_id=essay_id, seen_at=now))

    def update_essay(self, essay_id: int, seen_version: int, values: Mapping[str, object]) -> bool:
        """Write a new version of an essay only if it is still at `seen_version` (optimistic):
        False when another intake edited it since the caller looked."""
        changed = self.session.execute(
            update(EssayRow)
            .where(EssayRow.id == essay_id, EssayRow.version == seen_version)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return rows_changed(changed) == 1

    def schedule(self, row: PublicationRow, due: datetime, now: datetime) -> None:
        row.state = State.SCHEDULED.value
        row.due_at = due
        row.updated_at = now

    def to_update(self, row: PublicationRow, now: datetime) -> None:
        """A published copy whose essay was edited: updated in place, due now."""
        row.needs_update = 1
        row.state = State.SCHEDULED.value
        row.due_at = now

    def cancel(self, row: PublicationRow, reason: str, now: datetime) -> None:
        """Cancelled without a send, the reason kept as its last error; the claim dropped."""
        row.state = State.CANCELLED.value
        row.last_error = reason
        row.claimed_by = None
        row.lease_until = None
        row.updated_at = now

    def set_progress(self, row: PublicationRow, progress: Mapping[str, object]) -> None:
        row.progress = dict(progress)

    def mark_stale_pages(self, essay_id: int, now: datetime) -> list[int]:
        """Site pages of the essay whose list of copies is behind: scheduled for an update
        in this transaction (pipeline/syndication.py). Sees this transaction's writes."""
        from pipeline.syndication import mark_stale_pages

        self.session.flush()
        return mark_stale_pages(self.session, self.store, essay_id, now)


def rows_changed(result: object) -> int:
    """How many rows an UPDATE changed (an UPDATE's result is always a cursor result)."""
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
