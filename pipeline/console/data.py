"""The console's one door to the data and to the operator's steps.

Every page reads, and every button acts, through `ConsoleData` and nothing else: the web
layer never touches the store, the pipeline or a file itself. It reads through the
`PublicationStore` contract and steers through the pipeline's operator steps and the CLI's
helpers, so a step in the console has the CLI's rules and messages.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline import cli
from pipeline.document import Essay, summarize
from pipeline.health import Health, read_health
from pipeline.inbox import Inbox, free_name
from pipeline.logs import LOG_NAME
from pipeline.publishing.pipeline import Pipeline
from pipeline.publishing.planner import next_slot
from pipeline.store import EssayRow, PublicationRow
from pipeline.store.views import QueueQuery

PAGE_SIZE = 50
CALENDAR_LIMIT = 2000  # publications read for one calendar window
LOG_SCAN_BYTES = 4 * 1024 * 1024  # the Logs page reads this much of the newest log
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
UPLOAD_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".txt", ".text", ".html", ".htm"})
UPLOAD_SUFFIXES |= {".docx", ".zip"}


class StepRefused(Exception):
    """An operator step changed nothing; the message says why (the CLI's words)."""


@dataclass(frozen=True)
class QueueFilter:
    state: str | None = None
    target: str | None = None
    essay: int | None = None
    since: datetime | None = None  # due at or after
    until: datetime | None = None  # due before


@dataclass
class QueuePage:
    rows: list[Any]
    following: str | None  # keyset cursor of the next page (`after`), None on the last
    previous: str | None  # keyset cursor of the page before (`before`), None on the first
    matching: int


@dataclass
class Window:
    items: list[Any]
    cut: bool  # more publications fall in the window than were read


@dataclass
class PublicationView:
    row: PublicationRow
    essay_title: str
    events: list[dict[str, Any]]
    dependency: PublicationRow | None


@dataclass
class EssayView:
    row: EssayRow
    essay: Essay
    document: dict[str, Any]
    publications: list[PublicationRow]
    preview: dict[str, Any]


@dataclass
class AccountView:
    target: str
    platform: str
    enabled: bool
    health: dict[str, Any] | None
    limit: tuple[int, float] | None
    used: int
    next_slot: datetime | None
    slots: list[str]
    max_per_day: int | None


@dataclass
class AccountCheck:
    at: datetime
    rows: list[dict[str, Any]]
    failures: int


@dataclass
class LogTail:
    lines: list[dict[str, Any]]
    position: int  # byte offset in the current log file after these lines
    inode: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class ConsoleData:
    """Typed reads and steps over one home folder's engine, for the console's pages."""

    def __init__(self, engine: Pipeline) -> None:
        self.engine = engine
        self.home: Path = engine.home
        self.last_check: AccountCheck | None = None

    @property
    def settings(self) -> Any:
        return self.engine.settings

    @property
    def zone(self) -> Any:
        return self.engine.settings.zone

    def secret_values(self) -> list[str]:
        """Everything no answer of the console may contain."""
        return self.settings.secret_values() + self.engine.accounts.secret_values()

    # ------------------------------------------------------------------ queue

    def queue(
        self,
        filters: QueueFilter,
        after: str | None = None,
        before: str | None = None,
        size: int = PAGE_SIZE,
    ) -> QueuePage:
        """One page of publications, paged by keyset so every page costs the same however
        deep it is, at 100,000 rows as at 100: newest first by id; with a date range, by
        due time (the `due_at` index serves both the range and the order)."""
        by_due = filters.since is not None or filters.until is not None
        forward = before is None
        cursor = parse_cursor(after if forward else before, by_due)
        query = QueueQuery(
            filters.state,
            filters.target,
            filters.essay,
            filters.since,
            filters.until,
            cursor,
            by_due,
            forward,
            size,
        )
        rows, matching = self.engine.store.queue_page(query)
        more = len(rows) > size
        rows = rows[:size] if forward else list(reversed(rows[:size]))
        if not rows:
            return QueuePage([], None, None, matching or 0)
        has_next = more if forward else True
        has_previous = cursor is not None if forward else more
        return QueuePage(
            rows,
            make_cursor(rows[-1], by_due) if has_next else None,
            make_cursor(rows[0], by_due) if has_previous else None,
            matching or 0,
        )

    def state_counts(self) -> dict[str, int]:
        return cli.state_counts(self.engine)

    def targets(self) -> list[str]:
        return list(self.settings.targets)

    def daemon_health(self) -> str:
        health: Health = read_health(self.engine.store, self.home)
        return health.line(self.zone, datetime.now(UTC))

    # --------------------------------------------------------------- calendar

    def calendar(self, start: datetime, end: datetime, target: str | None = None) -> Window:
        """Publications due in [start, end), by due time (at most `CALENDAR_LIMIT`)."""
        rows = self.engine.store.due_between(start, end, target, CALENDAR_LIMIT + 1)
        return Window(rows[:CALENDAR_LIMIT], len(rows) > CALENDAR_LIMIT)

    # ------------------------------------------------------------ publication

    def publication(self, pub_id: int) -> PublicationView | None:
        row = self.engine.store.publication(pub_id)
        if row is None:
            return None
        essay = self.engine.store.essay(row.essay_id)
        dependency = self.engine.store.publication(row.depends_on) if row.depends_on else None
        return PublicationView(
            row=row,
            essay_title=essay.title if essay else "?",
            events=self.publication_events(pub_id),
            dependency=dependency,
        )

    def publication_events(self, pub_id: int, limit: int = 500) -> list[dict[str, Any]]:
        """The publication's journal: every event the engine recorded for it, oldest first."""
        rows = self.engine.store.publication_events(pub_id, limit)
        return [{"at": r.at, "kind": r.kind, "data": _loads(r.data)} for r in rows]

    def request_body(self, row: PublicationRow) -> tuple[list[dict[str, Any]], str | None]:
        """What the publisher sends for this publication, rendered as it renders it."""
        try:
            draft = self.engine.render(row, self.engine.essay_of(row))
        except Exception as exc:  # a render that fails is shown, not raised: say why
            return [], self.engine.store.redact(str(exc)) or "could not be rendered"
        posts = [
            {"request": p.request, "text": p.text, "length": p.length, "limit": p.limit}
            for p in draft.posts
        ]
        return posts, None

    # ------------------------------------------------------------------ essay

    def essay(self, essay_id: int) -> EssayView | None:
        from pipeline.preview import preview_essay

        row = self.engine.store.essay(essay_id)
        if row is None:
            return None
        essay = Essay.model_validate_json(row.essay_json)
        publications = self.engine.store.publications_of_essay(essay_id)
        names = [p.target for p in publications if p.target in self.settings.targets]
        preview = preview_essay(essay, self.settings, self.home, names, texts=True) if names else {}
        return EssayView(row, essay, summarize(essay), publications, preview)

    # --------------------------------------------------------------- accounts

    def accounts(self) -> list[AccountView]:
        """Each target's stored health, rate-limit window use and next free slot; no
        request goes out (the "check now" button does that)."""
        views = []
        now = self.engine.now()
        for name, target in self.settings.targets.items():
            limit = self.engine.rate_limits.limit_for(name)
            used = 0
            if limit and self.engine.rate_limits.history is not None:
                used = len(self.engine.rate_limits.history(name, limit[1]))
            health = self.engine.accounts.stored_health(name)
            views.append(
                AccountView(
                    target=name,
                    platform=target.platform,
                    enabled=target.enabled,
                    health=health.as_dict() if health else None,
                    limit=limit,
                    used=used,
                    next_slot=next_slot(now, target, self.zone, self._booked(name, now))
                    if target.slots
                    else None,
                    slots=list(target.slots),
                    max_per_day=target.max_per_day,
                )
            )
        return views

    def _booked(self, target: str, since: datetime) -> list[datetime]:
        return self.engine.store.taken_due_times(target, since - timedelta(days=1))

    def check_accounts(self) -> AccountCheck:
        """`accounts check`: asks every platform who the credentials belong to."""
        rows, failures = cli.check_accounts(self.engine)
        self.last_check = AccountCheck(datetime.now(UTC), rows, failures)
        return self.last_check

    # ---------------------------------------------------------- operator steps

    def retry(self, pub_id: int) -> str:
        return self._step(lambda: self.engine.retry(pub_id), "set to retry")

    def cancel(self, pub_id: int) -> str:
        return self._step(lambda: self.engine.cancel(pub_id), "cancelled")

    def reschedule(self, pub_id: int, when: str) -> str:
        def move() -> PublicationRow:
            try:
                moment = cli.parse_when(when.strip(), self.zone)
            except Exception as exc:  # the CLI's words for a time it cannot read
                raise ValueError(str(exc)) from None
            return self.engine.reschedule(pub_id, moment)

        return self._step(move, "rescheduled")

    def confirm(self, pub_id: int, url: str) -> str:
        return self._step(lambda: self.engine.confirm(pub_id, url.strip()), "confirmed")

    def _step(self, action: Any, verb: str) -> str:
        try:
            row = action()
        except (LookupError, ValueError) as exc:
            raise StepRefused(str(exc.args[0]) if exc.args else "nothing changed") from None
        if self.engine.on_scheduled is not None and row.due_at is not None:
            self.engine.on_scheduled([row.id])  # in `run --console`: armed at once
        return cli.step_done(row, verb, self.zone)

    # ------------------------------------------------------------ inbox files

    def failed_files(self) -> dict[str, str]:
        return cli.failed_files(self.home)

    def retry_file(self, name: str) -> str:
        """Move a refused file back into the inbox (and drop its note), to be read again."""
        if name not in self.failed_files():
            raise StepRefused(f"no refused file named {name!r} in failed/")
        source = self.home / "failed" / name
        if not source.is_file():
            raise StepRefused(f"failed/{name} is gone; only its note is left")
        moved = Inbox.move(source, self.home / "inbox")
        (self.home / "failed" / f"{name}.error.txt").unlink(missing_ok=True)
        return f"failed/{name} moved back into inbox/ as {moved.name}; it is read again"

    def drop(self, filename: str, data: bytes) -> str:
        """Write an uploaded file into the inbox under a safe name, in one rename, so the
        inbox never sees half a file; from there it takes the folder's path."""
        name = safe_name(filename)
        inbox = self.home / "inbox"
        partial = inbox / f".upload-{secrets.token_hex(8)}.part"  # the inbox ignores it
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        target = free_name(inbox, name)
        os.replace(partial, target)
        return f"{target.name} dropped into inbox/ ({len(data)} bytes); it is read in a moment"

    # ------------------------------------------------------------------- logs

    def log_lines(
        self, level: str, essay: int | None, target: str | None, limit: int = 300
    ) -> list[dict[str, Any]]:
        """The newest matching log lines, oldest first (as `crosspost logs` filters), from
        the last `LOG_SCAN_BYTES` of the log: a page costs the same with a month of logs."""
        matching = [
            line
            for line in recent_log_lines(self.home / "logs", LOG_SCAN_BYTES)
            if cli.log_line_wanted(line, level, essay, target)
        ]
        return matching[-limit:]

    def log_end(self) -> LogTail:
        """Where the current log file ends now: a live tail starts there."""
        path = self.home / "logs" / LOG_NAME
        try:
            stat = path.stat()
        except FileNotFoundError:
            return LogTail([], 0, 0)
        return LogTail([], stat.st_size, stat.st_ino)

    def log_tail(self, since: LogTail) -> LogTail:
        """Whole lines written after `since` (from the start of a rotated-in file)."""
        path = self.home / "logs" / LOG_NAME
        try:
            stat = path.stat()
        except FileNotFoundError:
            return LogTail([], 0, 0)
        start = (
            since.position if stat.st_ino == since.inode and stat.st_size >= since.position else 0
        )
        if stat.st_size == start:
            return LogTail([], start, stat.st_ino)
        with path.open("rb") as handle:
            handle.seek(start)
            chunk = handle.read(stat.st_size - start)
        complete = chunk.rfind(b"\n") + 1  # a line being written waits for the next poll
        lines = []
        for raw in chunk[:complete].splitlines():
            try:
                lines.append(json.loads(raw))
            except json.JSONDecodeError:
                continue
        return LogTail(lines, start + complete, stat.st_ino)


def recent_log_lines(folder: Path, budget: int) -> list[dict[str, Any]]:
    """The last `budget` bytes of the log (the current file, then rotated ones), parsed,
    oldest first; a line cut by the budget is left out."""
    files = [folder / LOG_NAME] + [folder / f"{LOG_NAME}.{n}" for n in range(1, 10)]
    chunks: list[bytes] = []
    for path in files:
        if budget <= 0 or not path.is_file():
            break
        size = path.stat().st_size
        with path.open("rb") as handle:
            handle.seek(max(0, size - budget))
            chunk = handle.read(budget)
        if size > budget:
            chunk = chunk.partition(b"\n")[2]  # the first line is cut: leave it out
        chunks.insert(0, chunk)
        budget -= size
    lines = []
    for raw in b"".join(chunks).splitlines():
        try:
            lines.append(json.loads(raw))
        except json.JSONDecodeError:
            continue
    return lines


def make_cursor(row: Any, by_due: bool) -> str:
    """Where a page ends, for the link to the next one: the row's id (and due time)."""
    return f"{row.due_at.isoformat()}~{row.id}" if by_due else str(row.id)


def parse_cursor(text: str | None, by_due: bool) -> tuple[Any, ...] | None:
    """A cursor from a link; one that does not parse starts from the first page."""
    if not text:
        return None
    try:
        if by_due:
            due, _, pub_id = text.rpartition("~")
            return datetime.fromisoformat(due), int(pub_id)
        return (int(text),)
    except ValueError:
        return None


def safe_name(filename: str) -> str:
    """A file name the inbox can take: the last path part, letters, digits, `._-` only,
    no leading dot, at most 120 characters, with a suffix the readers know."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = f".{suffix.lower()}" if suffix else ""
    if suffix not in UPLOAD_SUFFIXES:
        known = ", ".join(sorted(UPLOAD_SUFFIXES))
        raise StepRefused(f"{filename!r}: not a file type the inbox reads; use one of {known}")
    clean = SAFE_NAME.sub("-", stem).strip("-.")[:100] or "essay"
    return clean + suffix


def _loads(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {"text": text}
    return data if isinstance(data, dict) else {"value": data}
