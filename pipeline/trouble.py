"""Storage trouble that passes: a locked database or a full disk is waited out, not failed.

`storage_trouble` tells such an error apart from a bug and says what it was and where, so
the daemon logs "disk full writing /home/x/site/a.html", keeps the publication for later
and reports itself unhealthy until the next write succeeds.
"""

from __future__ import annotations

import errno

from sqlalchemy.exc import OperationalError, SQLAlchemyError

FULL = {errno.ENOSPC, errno.EDQUOT}


def storage_trouble(exc: BaseException) -> str | None:
    """A one-line reason when `exc` is a passing storage condition, else None."""
    if isinstance(exc, OSError) and exc.errno in FULL:
        where = exc.filename or "the home folder"
        return f"disk full writing {where}"
    if isinstance(exc, OperationalError):
        text = str(exc.orig) if exc.orig is not None else str(exc)
        lowered = text.lower()
        if "full" in lowered:
            return f"disk full: the database cannot grow ({text})"
        if "locked" in lowered or "busy" in lowered:
            return f"database is locked by another process ({text})"
        return f"database unavailable ({text})"
    if isinstance(exc, SQLAlchemyError):
        first = str(exc).splitlines()[0] if str(exc) else "no detail"
        return f"database error ({first[:200]})"
    return None
