"""File helpers for the local connectors: atomic writes, so a crash never leaves half a file,
and a lock, so two publishers updating one shared file (the site's manifest) never lose
each other's entry."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.filelock import locked as locked_file


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, fsync, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_if_changed(path: Path, text: str) -> None:
    """`write_atomic`, skipped when the file already holds `text` (no fsync for nothing)."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    write_atomic(path, text)


def home_folder(home: str | None, name: str) -> Path:
    return Path(home or ".").resolve() / name


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold `folder`'s lock (`.lock` inside it) against other threads and processes."""
    folder.mkdir(parents=True, exist_ok=True)
    with locked_file(folder / ".lock"):
        yield
