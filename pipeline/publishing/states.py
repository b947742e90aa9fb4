"""A publication's states and the moves between them: plain data, no SQL, no I/O."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    PLANNED = "planned"  # waiting for another target (its URL or its due time)
    SCHEDULED = "scheduled"  # due at `due_at`
    PUBLISHING = "publishing"  # claimed by a publisher; requests may be under way
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"
    AWAITING_MANUAL = "awaiting-manual"  # prepared for a person (Patreon hand-off)


OPEN_STATES = frozenset({State.PLANNED, State.SCHEDULED, State.PUBLISHING})
