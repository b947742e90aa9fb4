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


def try_hold(lock_file: Path) -> int | None:
    """Take `lock_file` without waiting, for as long as the returned descriptor stays open.

    None when another process holds it. The OS drops the lock with the process, so a
    process killed with SIGKILL never leaves a lock behind that blocks the next one.
    """
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    if fcntl is None:  # pragma: no cover - Windows: no exclusion between processes
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def is_held(lock_file: Path) -> bool:
    """True while some process holds `lock_file` (checked without taking it for long)."""
    if fcntl is None or not lock_file.exists():  # pragma: no cover - Windows
        return False
    fd = os.open(lock_file, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the shared lock taken for the probe
    return False
