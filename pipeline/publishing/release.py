"""Dependents released when a URL exists, and publications of removed targets cancelled.

A post that links the blog's URL waits `planned` until the blog post is published (or a
person confirms where it went live); then, in the same transaction, it is scheduled at
the planner's time for it (`release_after`: its offset, its slots, the essay's own time).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.document import Essay
from pipeline.publishing.planner import release_after
from pipeline.publishing.wiring import Wiring
from pipeline.settings import Settings
from pipeline.store.lifecycle import Tx
from pipeline.store.models import PublicationRow
from pipeline.timezones import author_time


def slots_taken(tx: Tx, settings: Settings) -> dict[str, list[datetime]]:
    """Due times taken per target, for slot planning: only targets with slots need them."""
    slotted = [name for name, t in settings.targets.items() if t.slots]
    if not slotted:
        return {}  # without slots nothing reads them; at 100k rows the scan costs ~0.1 s
    return tx.booked(slotted)


class Releaser:
    def __init__(self, wiring: Wiring) -> None:
        self.wiring = wiring

    def release_dependents(self, tx: Tx, pub_id: int, now: datetime) -> list[int]:
        """Schedule the planned publications waiting for `pub_id`, in the caller's
        transaction; returns those scheduled (a dependent of a removed target is cancelled)."""
        settings = self.wiring.settings
        dependents = tx.waiting_on(pub_id)
        booked = slots_taken(tx, settings) if dependents else {}
        scheduled: list[int] = []
        for dep in dependents:
            if dep.target not in settings.targets:
                self.cancel_removed(tx, dep, now)
                continue
            due = release_after(
                now,
                timedelta(seconds=dep.offset_seconds),
                settings.targets[dep.target],
                settings.zone,
                booked.get(dep.target, []),
                self._not_before(tx, dep, now),
            )
            tx.schedule(dep, due, now)
            tx.row_event(
                "publication.scheduled",
                dep,
                due=due,
                why="its dependency has a URL now",
            )
            scheduled.append(dep.id)
        return scheduled

    def _not_before(self, tx: Tx, dep: PublicationRow, now: datetime) -> datetime:
        """The essay's own publication time, when it is later than now."""
        essay_row = tx.essay(dep.essay_id)
        assert essay_row is not None
        essay = Essay.model_validate_json(essay_row.essay_json)
        if essay.publish_at is None:
            return now
        at = author_time(essay.publish_at, self.wiring.settings.zone)
        return max(now, at.astimezone(UTC))

    def cancel_removed(self, tx: Tx, row: PublicationRow, now: datetime) -> None:
        """A publication for a target no longer in the settings: cancelled, saying why."""
        reason = removed_reason(row.target)
        tx.cancel(row, reason, now)
        tx.row_event(
            "publication.cancelled",
            row,
            why=reason,
        )
        self.wiring.log.warning(
            "publication cancelled", publication=row.id, target=row.target, why=reason
        )

    def cancel_removed_targets(self) -> list[int]:
        """Open publications of targets the settings no longer have: cancelled with a reason
        (at start and when the settings change), so none is retried against a missing target."""
        now = self.wiring.now()
        with self.wiring.store.transaction() as tx:
            rows = tx.open_for_missing(list(self.wiring.settings.targets))
            for row in rows:
                self.cancel_removed(tx, row, now)
        return [row.id for row in rows]


def removed_reason(target: str) -> str:
    return f"target {target!r} was removed from the settings; nothing was sent"
