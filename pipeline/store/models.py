"""The database rows: essays, publications (essay x target), events, feed entries and the
daemon's heartbeat.

ORM classes only; queries live in `publications.py` (the run lock's in `advisory.py`),
engine tuning and migrations in `schema.py`. The schema itself is created and upgraded by
the alembic migrations in `pipeline/migrations`, whose path is unchanged for existing
databases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# a JSON column's value: whatever the connector journaled (the one honest `Any` here)
JsonObject = dict[str, Any]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and read back timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class EssayRow(Base):
    __tablename__ = "essays"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # what makes an essay the same, unique in the database (migration 0002): the same bytes
    # are a duplicate; the same slug or canonical URL is an edit of the stored essay
    slug: Mapped[str] = mapped_column(String(200), index=True, unique=True)
    title: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str | None] = mapped_column(Text, index=True, unique=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True, unique=True)
    source_name: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(40), default="inbox")  # inbox | feed
    essay_json: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PublicationRow(Base):
    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("essay_id", "target", name="uq_publication_essay_target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    essay_id: Mapped[int] = mapped_column(ForeignKey("essays.id"), index=True)
    target: Mapped[str] = mapped_column(String(100), index=True)
    platform: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    depends_on: Mapped[int | None] = mapped_column(ForeignKey("publications.id"))
    wait_for: Mapped[str | None] = mapped_column(String(20))  # url | due
    offset_seconds: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    remote_id: Mapped[str | None] = mapped_column(Text)
    remote_url: Mapped[str | None] = mapped_column(Text)
    remote_extra: Mapped[JsonObject | None] = mapped_column(JSON)
    progress: Mapped[JsonObject | None] = mapped_column(JSON)  # the connector's journal
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    needs_update: Mapped[int] = mapped_column(Integer, default=0)  # essay edited after publish
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventRow(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    essay_id: Mapped[int | None] = mapped_column(Integer, index=True)
    publication_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[str] = mapped_column(Text, default="{}")


class FeedEntryRow(Base):
    """Feed entries already turned into essays, by guid, so a re-poll adds nothing."""

    __tablename__ = "feed_entries"
    __table_args__ = (UniqueConstraint("feed_url", "guid", name="uq_feed_entry"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_url: Mapped[str] = mapped_column(Text)
    guid: Mapped[str] = mapped_column(String(500), index=True)
    essay_id: Mapped[int | None] = mapped_column(Integer)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HeartbeatRow(Base):
    """What the daemon last knew of itself (table created by migration 0003; see
    pipeline/health.py for how `status` reads it)."""

    __tablename__ = "daemon_heartbeat"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))  # running | unhealthy | stopped
    reason: Mapped[str | None] = mapped_column(Text)
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
