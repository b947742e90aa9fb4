"""The read path of `crosspost status`: the same queries as the full path, over the DB-API.

SQLAlchemy, alembic and the ORM models cost about 300 ms to import; the queries behind
`status` take about 12 ms at a hundred thousand publications. This reader speaks `sqlite3`
(standard library) or a minimal PostgreSQL client (`pgwire.py`) and returns rows with the
same fields and values as the full path, so the same printing code gives byte-identical
output (tests/test_status_quick.py runs both).

It never migrates, creates or writes: a database whose schema is not the newest
migration, a driver it cannot use, or any error raises `QuickUnavailable`, and the caller
takes the full path (which migrates, as before).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from pipeline.publishing.states import State
from pipeline.store.views import StatusRow

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"
COLUMNS = (
    "p.id, e.id, e.title, p.target, p.platform, p.state, p.due_at, p.attempts, "
    "p.remote_url, p.last_error, p.depends_on"
)
JOINED = f"SELECT {COLUMNS} FROM publications p JOIN essays e ON e.id = p.essay_id"


class QuickUnavailable(Exception):
    """The quick reader cannot answer with certainty: use the full path."""


class HeartbeatRow(NamedTuple):
    name: str
    state: str
    reason: str | None
    pid: int
    host: str
    started_at: datetime
    beat_at: datetime


def head_revision() -> str:
    """The newest migration's revision: its file name's number (as `HEAD_REVISION`)."""
    return max(p.name.partition("_")[0] for p in VERSIONS.glob("[0-9]*_*.py"))


def _utc(value: Any) -> datetime | None:
    """A stored time as the full path reads it: aware, in UTC."""
    if value is None:
        return None
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    # SQLite keeps ISO text without a zone: it is UTC
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class QuickReader:
    """A read-only look at one database; every failure is `QuickUnavailable`."""

    def __init__(self, url: str) -> None:
        self.sqlite_path: Path | None = None
        self.counts: dict[str, int] | None = None
        try:
            if url.startswith("sqlite:///"):
                path = url.removeprefix("sqlite:///")
                if not path or any(c in path for c in "?#%") or path == ":memory:":
                    raise QuickUnavailable("a SQLite URL the full path must parse")
                self.sqlite_path = Path(path)
                self.sqlite = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30)
            elif url.startswith(("postgresql://", "postgresql+psycopg://")):
                from pipeline.store import pgwire  # SQLite homes need no socket code

                self.pg = pgwire.PgConnection(url)
            else:
                raise QuickUnavailable("a database the quick reader does not speak")
            if self._rows("SELECT version_num FROM alembic_version") != [(head_revision(),)]:
                self.close()
                raise QuickUnavailable("the schema is not the newest: the full path migrates")
        except QuickUnavailable:
            raise
        except Exception as exc:  # any doubt (driver, server, network): the full path answers
            raise QuickUnavailable(str(exc)) from exc

    def _rows(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            if self.sqlite_path is not None:
                return self.sqlite.execute(sql).fetchall()
            return self.pg.query(sql)
        except Exception as exc:  # the full path answers, or says what is wrong
            raise QuickUnavailable(str(exc)) from exc

    def _status(self, sql: str) -> list[StatusRow]:
        rows = []
        for row in self._rows(sql):
            fields = list(row)
            fields[6] = _utc(fields[6])
            rows.append(StatusRow(*fields))
        return rows

    def status_rows(
        self, essay_id: int | None, everything: bool, limits: dict[str, int]
    ) -> tuple[list[StatusRow], int]:
        """What `pipeline.cli.status_rows` returns, by the same queries."""
        if essay_id is not None:
            rows = self._status(f"{JOINED} WHERE p.essay_id = {int(essay_id)} ORDER BY p.id")
            return rows, len(rows)
        total = sum(self.state_counts().values())  # one scan serves the total and the summary
        if everything or total <= limits["show_all_up_to"]:
            return self._status(f"{JOINED} ORDER BY p.id"), total
        attention, soonest, recent = limits["attention"], limits["soonest"], limits["recent"]
        queries = [
            f"{JOINED} WHERE p.state = '{s.value}' ORDER BY p.id LIMIT {attention}"
            for s in (State.FAILED, State.AWAITING_MANUAL, State.PUBLISHING, State.PLANNED)
        ]
        queries.append(
            f"{JOINED} WHERE p.state = '{State.SCHEDULED.value}' "
            f"ORDER BY p.due_at, p.id LIMIT {soonest}"
        )
        queries += [
            f"{JOINED} WHERE p.state = '{s.value}' ORDER BY p.id DESC LIMIT {recent}"
            for s in (State.PUBLISHED, State.CANCELLED)
        ]
        found = {row.id: row for sql in queries for row in self._status(sql)}
        return [found[key] for key in sorted(found)], total

    def state_counts(self) -> dict[str, int]:
        """Publications per state (read once per reader: `status` asks twice)."""
        if self.counts is None:
            rows = self._rows("SELECT state, count(*) FROM publications GROUP BY state")
            self.counts = {state: count for state, count in rows}
        return self.counts

    def heartbeat(self) -> HeartbeatRow | None:
        rows = self._rows(
            "SELECT name, state, reason, pid, host, started_at, beat_at "
            "FROM daemon_heartbeat WHERE name = 'daemon'"
        )
        if not rows:
            return None
        fields = list(rows[0])
        fields[5], fields[6] = _utc(fields[5]), _utc(fields[6])
        return HeartbeatRow(*fields)

    def holder_row(self, sql: str) -> tuple[Any, ...] | None:
        """The first row of `sql` (PostgreSQL's run-lock holder query), or None."""
        rows = self._rows(sql)
        return rows[0] if rows else None

    def close(self) -> None:
        if self.sqlite_path is not None:
            self.sqlite.close()
        elif hasattr(self, "pg"):
            self.pg.close()
