"""The inbox: notice dropped files, wait until they are fully written, read, plan, move.

A file is taken only once its size and mtime have stayed the same for `settle_seconds`
(an editor or a copy may still be writing). Hidden, temporary and swap files are ignored;
so is anything that is not a regular file inside the inbox (a symlink pointing outside is
moved to `failed/` with its reason, never followed). A file that cannot be read goes to
`failed/` unchanged, beside `<name>.error.txt` saying why (so does one whose front matter
cannot be planned, or that crosspost itself fails on); a planned one goes to `processed/`.
Nothing is ever deleted.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from pipeline.crashpoints import crashpoint
from pipeline.engine import Engine, Intake
from pipeline.errors import PlanError, ReadError
from pipeline.logs import get_logger
from pipeline.readers import MAX_INPUT_BYTES, read_bytes

IGNORED = re.compile(r"^(\.|~|#)|(~|\.swp|\.swx|\.tmp|\.part|\.crdownload|\.partial|#)$")


@dataclass
class Seen:
    size: int
    mtime: float
    since: float


@dataclass
class Inbox:
    engine: Engine
    home: Path
    settle_seconds: float = 0.5
    seen: dict[str, Seen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.log = get_logger(component="inbox")
        for name in ("inbox", "processed", "failed"):
            (self.home / name).mkdir(parents=True, exist_ok=True)

    @property
    def folder(self) -> Path:
        return self.home / "inbox"

    def ready_files(self, now: float | None = None) -> list[Path]:
        """Files whose size and mtime have been stable long enough, oldest first."""
        now = time.monotonic() if now is None else now
        ready: list[Path] = []
        present: set[str] = set()
        for entry in sorted(os.scandir(self.folder), key=lambda e: e.name):
            if IGNORED.search(entry.name):
                continue
            present.add(entry.name)
            if entry.is_symlink() or not entry.is_file(follow_symlinks=False):
                ready.append(Path(entry.path))  # rejected in take(), never followed
                continue
            stat = entry.stat(follow_symlinks=False)
            previous = self.seen.get(entry.name)
            if previous is None or (previous.size, previous.mtime) != (stat.st_size, stat.st_mtime):
                self.seen[entry.name] = Seen(stat.st_size, stat.st_mtime, now)
                if self.settle_seconds > 0:
                    continue
            if now - self.seen[entry.name].since >= self.settle_seconds:
                ready.append(Path(entry.path))
        for name in list(self.seen):
            if name not in present:
                del self.seen[name]
        return ready

    def settles_at(self) -> float | None:
        """When (monotonic) the soonest file seen but not yet taken will have settled."""
        if not self.seen:
            return None
        return min(s.since for s in self.seen.values()) + self.settle_seconds

    def scan(self) -> list[Intake | ReadError]:
        """Take every settled file; one bad file never stops the others.

        A file that fails for a reason of its own goes to `failed/`; one that fails because
        the disk or the database did (OSError, SQLAlchemyError) stays for the next scan.
        """
        results: list[Intake | ReadError] = []
        for path in self.ready_files():
            try:
                results.append(self.take(path))
            except ReadError as exc:
                results.append(exc)
            except (OSError, SQLAlchemyError) as exc:  # vanished, unreadable, store down
                self.log.warning("inbox file skipped", file=path.name, error=str(exc))
            except Exception as exc:  # a bug on this file must not hold up the files after it
                self.log.exception("inbox file could not be taken", file=path.name)
                error = ReadError(
                    path, f"crosspost failed on it (an internal error: {exc}); please report it"
                )
                with contextlib.suppress(OSError):
                    self.reject(path, error)
                results.append(error)
        return results

    def take(self, path: Path) -> Intake:
        self.seen.pop(path.name, None)
        try:
            if path.is_symlink() or not path.is_file():
                raise ReadError(path, "not a regular file (symlinks and folders are not followed)")
            if path.stat().st_size > MAX_INPUT_BYTES:
                raise ReadError(
                    path,
                    f"the file is {path.stat().st_size} bytes; "
                    f"the limit is {MAX_INPUT_BYTES} bytes",
                )
            data = path.read_bytes()
            essay = read_bytes(path, data)
            crashpoint("read")
        except ReadError as exc:
            self.reject(path, exc)
            raise
        try:
            intake = self.engine.add_essay(essay, path.name, data)
        except PlanError as exc:  # e.g. front matter making targets wait for each other
            error = ReadError(path, f"cannot be planned: {exc}")
            self.reject(path, error)
            raise error from None
        moved = self.move(path, self.home / "processed")
        self.log.info(
            "inbox file processed",
            file=path.name,
            outcome=intake.outcome,
            essay=intake.essay_id,
            note=intake.message,
            moved_to=str(moved),
        )
        return intake

    def reject(self, path: Path, error: ReadError) -> None:
        moved = self.move(path, self.home / "failed")
        error_file = moved.with_name(moved.name + ".error.txt")
        error_file.write_text(
            f"{path.name} could not be published.\n\nReason: {error.reason}\n\n"
            f"The original file is kept unchanged beside this note as {moved.name}.\n"
            "Fix it and drop it into the inbox again.\n",
            encoding="utf-8",
        )
        self.log.error(
            "inbox file failed", file=path.name, reason=error.reason, moved_to=str(moved)
        )

    @staticmethod
    def move(path: Path, folder: Path) -> Path:
        """Move without overwriting: a second file of the same name gets a numbered suffix."""
        folder.mkdir(parents=True, exist_ok=True)
        name = path.name.replace("..", "__")
        target = folder / name
        counter = 1
        while target.exists() or target.is_symlink():
            target = folder / f"{Path(name).stem}.{counter}{Path(name).suffix}"
            counter += 1
        shutil.move(str(path), str(target))
        return target
