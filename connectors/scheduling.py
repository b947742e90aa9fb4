"""When a platform itself holds a post until its time: the shared rule and its clock.

Blogs and patronage platforms (WordPress, Ghost, Substack, Patreon) can keep a post
scheduled on their side; an account asks for it with `schedule_on_platform`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from pipeline.timezones import author_time


def as_utc(moment: datetime, zone: tzinfo = UTC) -> datetime:
    """An aware UTC time. The engine hands connectors essays whose `publish_at` is already
    aware (read in the author's zone by `author_time`); a naive one here is read in `zone`."""
    return author_time(moment, zone).astimezone(UTC)


def schedule_on_platform(publish_at: datetime, options: Mapping[str, Any]) -> bool:
    """Let the platform hold the post until `publish_at`? Only when the account asks
    (`schedule_on_platform`) and, when the engine passed `now`, only for a time still ahead."""
    if not options.get("schedule_on_platform"):
        return False
    now = options.get("now")
    if now is None:
        return True
    if isinstance(now, str):
        now = datetime.fromisoformat(now)
    return as_utc(publish_at) > as_utc(now)
