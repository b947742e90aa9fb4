"""The inbox: notice dropped files, wait until they are fully written, read, plan, move.

A file is taken only once its size and mtime have stayed the same for `settle_seconds`
(an editor or a copy may still be writing). Hidden, temporary and swap files are ignored;
so is anything that is not a regular file inside the inbox (a symlink pointing outside is
moved to `failed/` with its reason, never followed). A file that cannot be read goes to
`failed/` unchanged, beside `<name>.error.txt` saying why (so does one whose front matter
cannot be planned, or that crosspost itself fails on); a planned one goes to `processed/`.
Nothing is ever deleted.

A settled file is *claimed* before it is read: renamed (atomic) into this process's own
folder under `working/`, so two readers (two daemons by mistake, a daemon and a `run
--once`) never both take it. The claim folder holds a lock file locked for the life of
its process; a folder whose lock is free belonged to a process that died, and its files go
back to the inbox when the next reader starts.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from pipeline.crashpoints import crashpoint
from pipeline.errors import PlanError, ReadError
from pipeline.filelock import try_hold
from pipeline.logs import get_logger
from pipeline.publishing.intake import Intake
from pipeline.publishing.pipeline import Pipeline
from pipeline.readers import MAX_INPUT_BYTES, read_bytes

CLAIMS = "working"  # home/working/<reader>/: files being read, one folder per live reader
OWNER_LOCK = ".owner.lock"  # a dot name: never an inbox file's name
IGNORED = re.compile(r"^(\.|~|#)|(~|\.swp|\.swx|\.tmp|\.part|\.crdownload|\.partial|#)$")


@dataclass
class Seen:
    size: int
    mtime: float
    since: float


@dataclass
class Inbox:
    engine: Pipeline
    home: Path
    settle_seconds: float = 0.5
    seen: dict[str, Seen] = field(default_factory=dict)
    claims: Path | None = None  # this reader's claim folder, made at its first claim
    claims_lock: int | None = None

    def __post_init__(self) -> None:
        self.log = get_logger(component="inbox")
        for name in ("inbox", "processed", "failed", CLAIMS):
            (self.home / name).mkdir(parents=True, exist_ok=True)
        self.reclaim()

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
        the disk or the database did (OSError, SQLAlchemyError) goes back for the next scan.
        A file another reader claimed first is simply not ours.
        """
        results: list[Intake | ReadError] = []
        for path in self.ready_files():
            try:
                claimed = self.claim(path)
            except OSError as exc:
                self.log.warning("inbox file skipped", file=path.name, error=str(exc))
                continue
            if claimed is None:
                continue
            try:
                results.append(self.process(claimed))
            except ReadError as exc:
                results.append(exc)
            except (OSError, SQLAlchemyError) as exc:  # vanished, unreadable, store down
                self.log.warning("inbox file skipped", file=path.name, error=str(exc))
                with contextlib.suppress(OSError):
                    self.move(claimed, self.folder)
            except Exception as exc:  # a bug on this file must not hold up the files after it
                self.log.exception("inbox file could not be taken", file=path.name)
                error = ReadError(
                    path, f"crosspost failed on it (an internal error: {exc}); please report it"
                )
                with contextlib.suppress(OSError):
                    self.reject(claimed, error)
                results.append(error)
        return results

    def take(self, path: Path) -> Intake | None:
        """Claim, read and plan one inbox file; None if another reader claimed it first."""
        claimed = self.claim(path)
        return None if claimed is None else self.process(claimed)

    # -- claims --------------------------------------------------------------------

    def claim(self, path: Path) -> Path | None:
        """Move an inbox file into this reader's claim folder; None if it is gone already."""
        self.seen.pop(path.name, None)
        claimed = free_name(self._claim_folder(), path.name)
        try:
            os.rename(path, claimed)  # atomic: of two readers, exactly one succeeds
        except FileNotFoundError:
            return None
        return claimed

    def _claim_folder(self) -> Path:
        """This reader's folder under `working/`, locked for as long as the reader lives.

        Made under a dot name and renamed once locked, so `reclaim` never mistakes a
        folder being made for one whose reader died.
        """
        if self.claims is not None and self.claims.is_dir():
            return self.claims
        name = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        making = self.home / CLAIMS / f".new-{name}"
        making.mkdir(parents=True)
        fd = try_hold(making / OWNER_LOCK)
        assert fd is not None  # nobody else knows this folder yet
        os.rename(making, self.home / CLAIMS / name)
        self.claims, self.claims_lock = self.home / CLAIMS / name, fd
        return self.claims

    def reclaim(self) -> list[Path]:
        """Files claimed by readers that died go back to the inbox; returns where they went."""
        returned: list[Path] = []
        for folder in sorted((self.home / CLAIMS).iterdir()):
            if folder.name.startswith(".") or not folder.is_dir() or folder == self.claims:
                continue
            try:
                fd = try_hold(folder / OWNER_LOCK)
            except OSError:  # another reader is reclaiming it right now
                continue
            if fd is None:  # its reader is alive
                continue
            try:
                for path in sorted(folder.rglob("*")):
                    if path.name != OWNER_LOCK and (path.is_file() or path.is_symlink()):
                        returned.append(self.move(path, self.folder))
                shutil.rmtree(folder, ignore_errors=True)
            finally:
                os.close(fd)
        for path in returned:
            self.log.warning("inbox file taken again after its reader died", file=path.name)
        return returned

    def close(self) -> None:
        """Give up the claim folder (empty by now: every claimed file was moved on)."""
        if self.claims is not None:
            with contextlib.suppress(OSError):
                (self.claims / OWNER_LOCK).unlink()
                self.claims.rmdir()
        if self.claims_lock is not None:
            os.close(self.claims_lock)
        self.claims, self.claims_lock = None, None

    # -- reading -------------------------------------------------------------------

    def process(self, path: Path) -> Intake:
        """Read and plan a claimed file, then move it to `processed/` (or `failed/`)."""
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
        target = free_name(folder, path.name.replace("..", "__"))
        shutil.move(str(path), str(target))
        return target


def free_name(folder: Path, name: str) -> Path:
    """`folder/name`, or `folder/stem.N.suffix` with the first N no file has taken."""
    target = folder / name
    counter = 1
    while target.exists() or target.is_symlink():
        target = folder / f"{Path(name).stem}.{counter}{Path(name).suffix}"
        counter += 1
    return target
