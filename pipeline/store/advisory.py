"""The run lock's two PostgreSQL queries: take a session advisory lock, name its holder.

The lock's policy (retries, the lock file on SQLite, what `status` prints) lives in
`pipeline/runlock.py`; only the SQL is here, on a connection the caller keeps open for as
long as the lock must live (the lock ends with its session).
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.engine import Connection


class AdvisoryHolder(NamedTuple):
    """The session holding an advisory lock, as PostgreSQL reports it."""

    application_name: str | None
    backend_start: datetime | None
    database: str


def try_advisory_lock(connection: Connection, key: int) -> bool:
    """Take the session-level advisory lock `key` without waiting; True when taken."""
    taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
    return bool(taken)


def advisory_holder(connection: Connection, key: int) -> AdvisoryHolder | None:
    """Who holds the advisory lock `key` on this database; None when nobody does."""
    row = connection.execute(
        text(
            "SELECT a.application_name, a.backend_start, current_database() "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = 0 "
            "AND l.objid::bigint = :key AND l.objsubid = 1 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        {"key": key},
    ).first()
    if row is None:
        return None
    name, started, database = row
    return AdvisoryHolder(name, started, str(database))
