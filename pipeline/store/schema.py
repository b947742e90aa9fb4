"""The database itself: engine tuning, migrations, sessions, redaction and the event log.

SQLite in WAL mode is the embedded default; the same code runs on PostgreSQL by URL.
Every state change of a publication is one short transaction, so a SIGKILL at any point
leaves either the old state or the new one, never half of each.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from pipeline.filelock import locked
from pipeline.store.models import EventRow

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine tuned for our use: WAL and a busy timeout on SQLite, pre-ping elsewhere."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(
            dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry
        ) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def create_private_file(url: str) -> None:
    """Make a SQLite database file owner-only (0600), creating it empty if missing, before
    SQLite opens it: its -wal and -shm journals take the file's mode, so they are private
    too. Anything but a SQLite file (PostgreSQL, `:memory:`) is left alone."""
    database = make_url(url).database if url.startswith("sqlite") else None
    if not database or database == ":memory:":
        return
    os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
    Path(database).chmod(0o600)


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
    config.set_main_option("script_location", str(MIGRATIONS))
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


class Database:
    """One database, migrated on open: sessions, redaction and the append-only event log."""

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

    def redact(self, text: str | None) -> str | None:
        """Last line of defence: no configured secret is ever written to the database."""
        if text is None:
            return None
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def add_event(
        self,
        session: Session,
        kind: str,
        *,
        essay_id: int | None = None,
        publication_id: int | None = None,
        **data: object,
    ) -> None:
        """Append one event in the caller's transaction, redacted."""
        payload = self.redact(json.dumps(data, default=str, ensure_ascii=False))
        session.add(
            EventRow(
                kind=kind, essay_id=essay_id, publication_id=publication_id, data=payload or "{}"
            )
        )
