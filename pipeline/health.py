"""The daemon's health: a heartbeat row it writes every tick, and the verdict `status` reads.

The row (table `daemon_heartbeat`, migration 0003) says what the daemon last knew of itself:
`running`, `unhealthy` (with the reason: "database is locked", "disk full ...") or
`stopped`, and when its last successful tick was. A tick that cannot reach the database
cannot write the row either, so the daemon also keeps the reason in `logs/daemon-health.json`
(beside the database on a home folder) for `status` to show while the row goes stale.

Exit codes of `crosspost status` (also the Docker health check):
  0  the daemon is running and ticking, or it is not running at all (stopped, never started,
     or its process is gone on this host): the listing is the answer;
  3  a daemon that says it is running has not ticked for `STALE_AFTER`, or says it is
     unhealthy: it cannot do its work (the reason is printed).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.store import Store

STALE_AFTER = timedelta(seconds=20)  # ten ticks of `SYNC_SECONDS`
UNHEALTHY_EXIT = 3
HEALTH_FILE = "daemon-health.json"
BEAT_BUSY_MS = 2000  # how long a heartbeat waits for SQLite's write lock


@dataclass
class Health:
    """What `status` says about the daemon."""

    state: str  # running | unhealthy | stale | stopped | not running | never started
    reason: str | None
    last_tick: datetime | None
    pid: int | None
    host: str | None

    @property
    def exit_code(self) -> int:
        return UNHEALTHY_EXIT if self.state in {"unhealthy", "stale"} else 0

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["last_tick"] = self.last_tick.isoformat() if self.last_tick else None
        data["exit_code"] = self.exit_code
        return data

    def line(self, zone: tzinfo, now: datetime) -> str:
        if self.last_tick is None:
            return f"daemon: {self.state}"
        ago = max(0, round((now - self.last_tick).total_seconds()))
        local = self.last_tick.astimezone(zone)
        text = f"daemon: {self.state}, last tick {local:%Y-%m-%d %H:%M:%S%z} ({ago} s ago)"
        return text + (f": {self.reason}" if self.reason else "")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Heartbeat:
    """The daemon's side: write the row on every good tick; note trouble where it can."""

    def __init__(self, store: Store, home: Path, now: Callable[[], datetime]) -> None:
        self.store = store
        self.file = home / "logs" / HEALTH_FILE
        self.now = now
        self.started_at = now()
        self.pid = os.getpid()
        self.host = socket.gethostname()

    def beat(self, state: str = "running", reason: str | None = None) -> None:
        """Write the row (raises on a database error: the caller logs and retries)."""
        self.store.write_heartbeat(
            state=state,
            reason=reason,
            pid=self.pid,
            host=self.host,
            started_at=self.started_at,
            beat_at=self.now(),
            busy_ms=BEAT_BUSY_MS,
        )
        self.note(state, reason)

    def note(self, state: str, reason: str | None) -> None:
        """The reason in a small file, for when the database cannot take it (best effort)."""
        data = {"state": state, "reason": reason, "pid": self.pid, "at": self.now().isoformat()}
        try:
            partial = self.file.with_suffix(".tmp")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # like the log
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(json.dumps(data))
            partial.replace(self.file)
        except OSError:
            pass  # a full disk: the stale row tells the rest


def _alive_here(pid: int, host: str) -> bool | None:
    """Is that process alive? None when it ran on another host (we cannot tell)."""
    if host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_health(store: Store, home: Path, now: datetime | None = None) -> Health:
    """The verdict from the heartbeat row (and the reason file while the row is stale)."""
    return judge(store.heartbeat(), home, now)


def judge(row: Any, home: Path, now: datetime | None = None) -> Health:
    """The verdict on a heartbeat row (None: no daemon ever started), whoever read it."""
    now = now or datetime.now(UTC)
    if row is None:
        return Health("never started", None, None, None, None)
    beat = _utc(row.beat_at)
    health = Health(row.state, row.reason, beat, row.pid, row.host)
    if row.state == "stopped":
        return health
    if _alive_here(row.pid, row.host) is False:
        health.state, health.reason = "not running", f"process {row.pid} ended without stopping"
        return health
    noted = _noted(home, row.pid)
    if noted and noted["state"] == "unhealthy" and noted["at"] > beat:
        health.state = "unhealthy"  # newer than the row: the row could not be written
        health.reason = f"{noted['reason']} (at {noted['at'].isoformat(timespec='seconds')})"
    elif now - beat > STALE_AFTER:
        health.state = "stale"
        health.reason = f"no tick for {round((now - beat).total_seconds())} s"
    return health


def _noted(home: Path, pid: int) -> dict[str, Any] | None:
    """The daemon's own note of its trouble, if it is this daemon's and readable."""
    try:
        data = json.loads((home / "logs" / HEALTH_FILE).read_text(encoding="utf-8"))
        data["at"] = _utc(datetime.fromisoformat(data["at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return data if data.get("pid") == pid else None
