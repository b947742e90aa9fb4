"""The store: essays, publications (essay x target) and an append-only event log.

SQLite in WAL mode is the embedded default; the same code runs on PostgreSQL by URL.
The schema is created and upgraded by alembic migrations (`pipeline/migrations`).
Every state change of a publication is one short transaction, so a SIGKILL at any point
leaves either the old state or the new one, never half of each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
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
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from pipeline.filelock import locked


class State(StrEnum):
    PLANNED = "planned"  # waiting for another target (its URL or its due time)
    SCHEDULED = "scheduled"  # due at `due_at`
    PUBLISHING = "publishing"  # claimed by a publisher; requests may be under way
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"
    AWAITING_MANUAL = "awaiting-manual"  # prepared for a person (Patreon hand-off)


OPEN_STATES = {State.PLANNED, State.SCHEDULED, State.PUBLISHING}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and read back timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
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
    remote_extra: Mapped[dict | None] = mapped_column(JSON)
    progress: Mapped[dict | None] = mapped_column(JSON)  # the connector's journal
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


def make_engine(url: str) -> Engine:
    """An engine tuned for our use: WAL and a busy timeout on SQLite, pre-ping elsewhere."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


HEAD_REVISION = "0003"  # the newest file in migrations/versions; checked by a test


def schema_is_current(engine: Engine) -> bool:
    """True when the database is at HEAD_REVISION: start-up then skips importing alembic."""
    try:
        with engine.connect() as connection:
            version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except Exception:
        return False
    return version == HEAD_REVISION


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent).

    Two processes may start on a fresh database at once (the daemon and a `status`): the
    upgrade runs under a lock, so the second one waits and then finds the schema current.
    """
    if schema_is_current(engine):
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with _migration_lock(engine), engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7270341)")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """An exclusive file lock beside a SQLite database (SQLite runs DDL outside transactions)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with locked(Path(f"{database}.migrate-lock")):
        yield


class Store:
    """Typed access to the database; each method is one short transaction."""

    def __init__(self, url: str, secrets: list[str] | None = None) -> None:
        self.url = url
        self.engine = make_engine(url)
        migrate(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.secrets = [s for s in (secrets or []) if s]

    def close(self) -> None:
        self.engine.dispose()

    def session(self) -> Session:
        return self.sessions()

    def checkpoint(self) -> None:
        """Fold SQLite's WAL back into the database and truncate it, so the log file cannot
        grow without bound (nor into space a full disk just freed). No-op elsewhere."""
        if self.engine.dialect.name != "sqlite":
            return
        with self.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- redaction ---------------------------------------------------------

    def redact(self, text: str | None) -> str | None:
        """Last line of defence: no configured secret is ever written to the database."""
        if text is None:
            return None
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text

    # -- events --------------------------------------------------------------

    def add_event(
        self,
        session: Session,
        kind: str,
        *,
        essay_id: int | None = None,
        publication_id: int | None = None,
        **data: Any,
    ) -> None:
        payload = self.redact(json.dumps(data, default=str, ensure_ascii=False))
        session.add(
            EventRow(
                kind=kind, essay_id=essay_id, publication_id=publication_id, data=payload or "{}"
            )
        )

    def events(self, essay_id: int | None = None, limit: int = 200) -> list[EventRow]:
        with self.session() as session:
            query = select(EventRow).order_by(EventRow.id.desc()).limit(limit)
            if essay_id is not None:
                query = query.where(EventRow.essay_id == essay_id)
            return list(reversed(session.scalars(query).all()))

    # -- reads -----------------------------------------------------------------

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
