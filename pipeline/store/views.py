"""What the store's reads hand out besides ORM rows: small typed values, no session attached.

A status row is what `crosspost status` (and the console) shows of one publication; the
limits say how a large store is summarised, and are the caller's choice, not the store's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # the quick read path imports these values without SQLAlchemy
    from pipeline.store.models import PublicationRow


@dataclass(frozen=True)
class StatusRow:
    """One publication as `status` lists it, joined with its essay's title."""

    id: int
    essay_id: int
    title: str
    target: str
    platform: str
    state: str
    due_at: datetime | None
    attempts: int
    remote_url: str | None
    last_error: str | None
    depends_on: int | None


@dataclass(frozen=True)
class StatusLimits:
    """How a store too large to list whole is summarised (see `status_rows`)."""

    show_all_up_to: int  # a store this small is listed whole
    attention: int  # failed, awaiting-manual, publishing and planned rows shown, each
    soonest: int  # scheduled rows shown, the next due first
    recent: int  # published and cancelled rows shown, each, the newest first


class StatusPage(NamedTuple):
    """The rows to show, in id order, and how many publications the store holds."""

    rows: list[StatusRow]
    total: int


class KnownEssay(NamedTuple):
    """A stored essay a new file turns out to be, and its publications by target."""

    essay_id: int
    publications: dict[str, PublicationRow]


class DueTime(NamedTuple):
    """A scheduled publication and when it falls due: what the daemon arms a timer for."""

    pub_id: int
    due_at: datetime


class PublicCopy(NamedTuple):
    """A publication of an essay with a URL, as a site page may list it (POSSE)."""

    target: str
    platform: str
    url: str


@dataclass(frozen=True)
class QueueQuery:
    """A page of the console's queue: filters, the keyset cursor and the direction.

    `cursor` is (due_at, id) when `by_due`, else (id,); None starts at the first page."""

    state: str | None = None
    target: str | None = None
    essay: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    cursor: tuple[Any, ...] | None = None
    by_due: bool = False
    forward: bool = True
    size: int = 50
