"""One `crosspost run` per store: the intake and the scheduler must never run twice at once.

Two daemons on one store would both read the inbox and both arm the same jobs. `run` takes
an exclusive lock that lives exactly as long as its process:

- SQLite: `flock` on `<database>.run-lock` (beside the database, so in the home folder by
  default); the file holds the holder's pid, host and start time for the next one to name.
- PostgreSQL: a session advisory lock on a connection kept open for the process lifetime;
  the holder is named by that connection's `application_name` and its `backend_start`,
  read back from `pg_stat_activity` (no table of its own).

The OS drops the `flock` of a killed process and PostgreSQL drops the advisory lock with
its session, so a stale lock never blocks a start. `worker` processes take no lock.

`CROSSPOST_TEST_SKIP_RUN_LOCK=1` is for tests only: it lets two daemons run at once, to
prove the store itself keeps intake exactly once when the lock is bypassed.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import CrosspostError
from pipeline.filelock import is_held, try_hold

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

EXIT_ALREADY_RUNNING = 5  # documented in README.md ("crosspost run")
SKIP_ENV = "CROSSPOST_TEST_SKIP_RUN_LOCK"
ADVISORY_KEY = 7270342  # the migration's transaction lock is 7270341
APP_PREFIX = "crosspost run "
TRIES = 10  # a `status` probing the lock at the same instant must not refuse a start
TRY_EVERY = 0.1


@dataclass
class Holder:
    """The process holding the run lock."""

    pid: int | None
    host: str
    since: datetime | None
    lock: str  # where the lock lives: a file, or the PostgreSQL database

    def describe(self) -> str:
        since = self.since.strftime("%Y-%m-%d %H:%M:%S UTC") if self.since else "an unknown time"
        return f"pid {self.pid or '?'} on {self.host or '?'}, since {since}"

    def as_json(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "host": self.host,
            "since": self.since.isoformat() if self.since else None,
            "lock": self.lock,
        }


class AlreadyRunning(CrosspostError):
    """A second `run` on a store whose run lock is held."""

    def __init__(self, holder: Holder | None) -> None:
        self.holder = holder
        who = holder.describe() if holder else "its holder could not be read"
        super().__init__(
            f"another `crosspost run` is already running on this store ({who}); "
            "stop it before starting another (more publishers: `crosspost worker`)"
        )


class RunLock:
    """A held run lock; `release` (or the end of the process) lets the next `run` start."""

    def __init__(self, release: Any = None) -> None:
        self._release = release

    def release(self) -> None:
        if self._release is not None:
            self._release()
            self._release = None


def _sqlite_lock_file(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(f"{database}.run-lock")


def hold_run_lock(url: str) -> RunLock:
    """Take the store's run lock for this process's lifetime, or raise AlreadyRunning."""
    if os.environ.get(SKIP_ENV) == "1":
        return RunLock()
    if url.startswith("postgresql"):
        return _hold_advisory(url)
    lock_file = _sqlite_lock_file(url)
    if lock_file is None:
        return RunLock()
    fd = try_hold(lock_file)
    for _ in range(TRIES - 1):
        if fd is not None:
            break
        time.sleep(TRY_EVERY)
        fd = try_hold(lock_file)
    if fd is None:
        raise AlreadyRunning(_file_holder(lock_file))
    me = {"pid": os.getpid(), "host": socket.gethostname(), "since": datetime.now(UTC).isoformat()}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(me).encode(), 0)
    return RunLock(lambda: os.close(fd))


def _file_holder(lock_file: Path) -> Holder:
    try:
        data = json.loads(lock_file.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        data = {}
    since = data.get("since")
    return Holder(
        pid=data.get("pid"),
        host=str(data.get("host") or ""),
        since=datetime.fromisoformat(since) if since else None,
        lock=str(lock_file),
    )


def _hold_advisory(url: str) -> RunLock:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from pipeline.store.advisory import try_advisory_lock

    name = f"{APP_PREFIX}{os.getpid()}@{socket.gethostname()}"[:63]
    engine = create_engine(url, poolclass=NullPool, connect_args={"application_name": name})
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    got = False
    for attempt in range(TRIES):
        got = try_advisory_lock(connection, ADVISORY_KEY)
        if got or attempt == TRIES - 1:
            break
        time.sleep(TRY_EVERY)
    if not got:
        holder = _advisory_holder(connection)
        connection.close()
        engine.dispose()
        raise AlreadyRunning(holder)

    def release() -> None:
        with contextlib.suppress(Exception):  # the session ending releases it anyway
            connection.close()
        engine.dispose()

    return RunLock(release)


# who holds the advisory lock: SQL shared by the full path and `status`'s quick reader
ADVISORY_HOLDER_SQL = (
    "SELECT a.application_name, a.backend_start, current_database() "
    "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = 0 "
    f"AND l.objid::bigint = {ADVISORY_KEY} AND l.objsubid = 1 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def _advisory_holder(connection: Any) -> Holder | None:
    from pipeline.store.advisory import advisory_holder as holder_row

    return advisory_holder(holder_row(connection, ADVISORY_KEY))


def advisory_holder(row: Any) -> Holder | None:
    """The holder named by a row of `ADVISORY_HOLDER_SQL` (None: no row, no `run`)."""
    if row is None:
        return None
    name, started, database = row
    who = name[len(APP_PREFIX) :] if name and name.startswith(APP_PREFIX) else ""
    pid, _, host = who.partition("@")
    return Holder(
        pid=int(pid) if pid.isdigit() else None,
        host=host,
        since=started.astimezone(UTC) if started else None,
        lock=f"PostgreSQL advisory lock {ADVISORY_KEY} on database {database}",
    )


def run_holder(engine: Engine) -> Holder | None:
    """Who holds the run lock of the store behind `engine`; None when no `run` is running."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            return _advisory_holder(connection)
    return file_run_holder(_sqlite_lock_file(str(engine.url)))


def file_run_holder(lock_file: Path | None) -> Holder | None:
    """Who holds a SQLite store's run lock file; None when no `run` is running."""
    if lock_file is None or not is_held(lock_file):
        return None
    return _file_holder(lock_file)


def daemon_status(holder: Holder | None) -> dict[str, Any]:
    """The daemon as `status --json` shows it: running (and who holds the lock) or not."""
    return {"running": False} if holder is None else {"running": True, **holder.as_json()}


def daemon_line(holder: Holder | None) -> str:
    """The daemon as `status` shows it, in one line."""
    if holder is None:
        return "daemon: not running (start it with `crosspost run`)"
    return f"daemon: running, {holder.describe()} (lock: {holder.lock})"
