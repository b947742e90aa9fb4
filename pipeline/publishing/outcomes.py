"""What one attempt at a claimed publication came to: a value, applied in one place.

The publisher returns an `Outcome`; `settle.Settler.apply` turns it into the state change
and its event (`change`), its log line (`line`), its notification (`notice`) and re-arms
the timer (`rearm`). An outcome decides nothing by itself and touches nothing: it is data.

| outcome             | state           | attempt counts | rearm | tells a person      |
|---------------------|-----------------|----------------|-------|---------------------|
| `Published`         | published       | yes            | its dependents  | no        |
| `RetryLater`        | scheduled       | yes            | yes   | no                  |
| `Deferred`          | scheduled       | no (rate limit)| yes   | no                  |
| `Held`              | scheduled       | no (account)   | yes   | when the hold begins|
| `WaitingForStorage` | scheduled       | no             | yes   | no                  |
| `Failed`            | failed          | yes            | no    | yes                 |
| `AwaitingManual`    | awaiting-manual | yes            | no    | yes                 |
| `TargetRemoved`     | cancelled       | yes            | no    | no                  |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Literal

from connectors.base import Remote
from pipeline.publishing.states import Change, State
from pipeline.store.models import PublicationRow


@dataclass(frozen=True)
class LogLine:
    level: Literal["info", "warning", "error"]
    message: str
    fields: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Notice:
    subject: str
    body: str
    fields: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """Base of the family. Class facts say how `apply` treats each kind."""

    rearm: ClassVar[bool] = False  # a new due time: the daemon's timer must know it
    logs_first: ClassVar[bool] = False  # the line is written even if the release fails
    frees_dependents: ClassVar[bool] = False  # a URL now exists: dependents may go out
    crashpoint: ClassVar[str | None] = None  # named crash point right after the commit

    def change(self, row: PublicationRow) -> Change:
        raise NotImplementedError

    def line(self, row: PublicationRow) -> LogLine:
        raise NotImplementedError

    def notice(self, row: PublicationRow) -> Notice | None:
        return None


@dataclass(frozen=True)
class Published(Outcome):
    remote: Remote
    at: datetime  # first publication time (an update keeps the original)
    updated: bool = False

    frees_dependents = True
    crashpoint = "published"

    @property
    def verb(self) -> str:
        return "updated" if self.updated else "published"

    def change(self, row: PublicationRow) -> Change:
        values: dict[str, object] = {
            "remote_id": self.remote.id,
            "remote_url": self.remote.url,
            "remote_extra": self.remote.extra,
            "last_error": None,
            "needs_update": 0,
            "published_at": self.at,
        }
        data = {"url": self.remote.url, "attempt": row.attempts}
        return Change(State.PUBLISHED, f"publication.{self.verb}", values, data)

    def line(self, row: PublicationRow) -> LogLine:
        fields: dict[str, object] = {"url": self.remote.url, "remote_id": self.remote.id}
        return LogLine("info", f"publication {self.verb}", fields)


@dataclass(frozen=True)
class RetryLater(Outcome):
    due: datetime
    error: str
    kind: str  # which error of the family (Transient, RateLimited, InDoubt)

    rearm = True

    def change(self, row: PublicationRow) -> Change:
        data = {
            "attempt": row.attempts,
            "error": self.error,
            "retry_at": self.due,
            "error_type": self.kind,
        }
        values = {"due_at": self.due, "last_error": self.error}
        return Change(State.SCHEDULED, "publication.retry", values, data)

    def line(self, row: PublicationRow) -> LogLine:
        fields = {"error": self.error, "retry_at": self.due.isoformat(), "kind": self.kind}
        return LogLine("warning", "publication will retry", dict(fields))


@dataclass(frozen=True)
class Deferred(Outcome):
    """The target's rate limit is used up: nothing was sent, so not an attempt."""

    due: datetime

    rearm = True

    def change(self, row: PublicationRow) -> Change:
        data = {"until": self.due, "why": "the target's rate limit is used up"}
        return Change(State.SCHEDULED, "publication.deferred", {"due_at": self.due}, data, True)

    def line(self, row: PublicationRow) -> LogLine:
        fields: dict[str, object] = {"until": self.due.isoformat()}
        return LogLine("info", "publication deferred by rate limit", fields)


@dataclass(frozen=True)
class Held(Outcome):
    """The account cannot post: parked unsent (not an attempt, not failed) until `due`."""

    due: datetime
    text: str  # "held: <reason> -- next step: <step>", redacted
    reason: str
    next_step: str
    hold_began: bool  # this attempt started the hold: a person is told once

    rearm = True

    def change(self, row: PublicationRow) -> Change:
        values = {"due_at": self.due, "last_error": self.text}
        data = {"why": self.text, "until": self.due}
        return Change(State.SCHEDULED, "publication.held", values, data, True)

    def line(self, row: PublicationRow) -> LogLine:
        return LogLine("warning", "publication held", {"reason": self.text})

    def notice(self, row: PublicationRow) -> Notice | None:
        if not self.hold_began:
            return None
        body = (
            f"{self.reason}\nnext step: {self.next_step}\n"
            "Its publications wait, unsent, until then."
        )
        return Notice(f"{row.target} is held: {self.reason}", body, {"target": row.target})


@dataclass(frozen=True)
class WaitingForStorage(Outcome):
    """A full disk or a locked database: tried again at `due`, not an attempt. Logged
    first: if even this release fails, the error goes up and the daemon tries again."""

    due: datetime
    trouble: str

    rearm = True
    logs_first = True

    def change(self, row: PublicationRow) -> Change:
        values = {"due_at": self.due, "last_error": self.trouble}
        data = {"error": self.trouble, "retry_at": self.due}
        return Change(State.SCHEDULED, "publication.retry", values, data, True)

    def line(self, row: PublicationRow) -> LogLine:
        fields = {"reason": self.trouble, "retry_at": self.due.isoformat()}
        return LogLine("warning", "publication waits for storage", dict(fields))


@dataclass(frozen=True)
class Failed(Outcome):
    text: str  # "<what happened> -- next step: <step>", redacted

    def change(self, row: PublicationRow) -> Change:
        data = {"error": self.text}
        return Change(State.FAILED, "publication.failed", {"last_error": self.text}, data)

    def line(self, row: PublicationRow) -> LogLine:
        return LogLine("error", "publication failed", {"error": self.text})

    def notice(self, row: PublicationRow) -> Notice | None:
        fields = {"publication": row.id, "target": row.target, "state": "failed"}
        return Notice(f"publication {row.id} to {row.target} failed", self.text, dict(fields))


@dataclass(frozen=True)
class AwaitingManual(Outcome):
    """Handed to a person (a prepared post); `crosspost confirm` records where it went live."""

    location: str | None
    message: str

    def change(self, row: PublicationRow) -> Change:
        data = {"location": self.location}
        return Change(
            State.AWAITING_MANUAL, "publication.awaiting-manual", {"last_error": None}, data
        )

    def line(self, row: PublicationRow) -> LogLine:
        fields = {"location": self.location, "next_step": f"crosspost confirm {row.id} URL"}
        return LogLine("warning", "publication awaiting manual step", dict(fields))

    def notice(self, row: PublicationRow) -> Notice | None:
        body = (
            f"{self.message}. Prepared post: {self.location}. When it is live, run: "
            f"crosspost confirm {row.id} <URL>"
        )
        fields = {"publication": row.id, "target": row.target, "state": "awaiting-manual"}
        return Notice(f"publication {row.id} to {row.target} needs you", body, dict(fields))


@dataclass(frozen=True)
class TargetRemoved(Outcome):
    """The target left the settings before anything was sent: cancelled, saying why."""

    reason: str

    def change(self, row: PublicationRow) -> Change:
        data = {"why": self.reason}
        return Change(State.CANCELLED, "publication.cancelled", {"last_error": self.reason}, data)

    def line(self, row: PublicationRow) -> LogLine:
        return LogLine("warning", "publication cancelled", {"why": self.reason})
