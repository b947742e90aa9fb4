"""One exclusive lock on a file, for work that two threads or two processes must not interleave
(a SQLite schema upgrade, the static site's read-modify-write of its manifest)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the thread lock alone
    fcntl = None  # type: ignore[assignment]

_thread_locks: dict[Path, threading.Lock] = {}
_guard = threading.Lock()


@contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """Hold `lock_file`: threads of this process and other processes wait their turn.

    Why both: flock is per open file, so two threads opening the file each would both get
    it; the thread lock orders them, the flock orders the processes.
    """
    with _guard:
        in_process = _thread_locks.setdefault(lock_file.resolve(), threading.Lock())
    with in_process:
        if fcntl is None:
            yield
            return
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
