"""One rule for wall-clock times: a naive time is the author's, and it must name one instant.

The planner (front matter `publish_at`), the engine (what connectors are given to render)
and the CLI (`reschedule`) all call `author_time`, so a naive 09:00 is the same instant
everywhere. A local time the clocks skip (02:30 on a spring-forward day) or pass twice
(02:30 on a fall-back day) is refused with both readings named, never guessed.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from pipeline.errors import PlanError


class LocalTimeError(PlanError):
    """A naive local time that does not name exactly one instant in the author's zone."""


def _round_trips(moment: datetime) -> bool:
    return moment.astimezone(UTC).astimezone(moment.tzinfo).replace(tzinfo=None) == (
        moment.replace(tzinfo=None)
    )


def author_time(moment: datetime, zone: tzinfo) -> datetime:
    """`moment` as an aware time: kept if aware, else read in `zone`; skipped or repeated
    local times raise `LocalTimeError` naming the two instants it could mean."""
    if moment.tzinfo is not None:
        return moment
    first = moment.replace(tzinfo=zone, fold=0)
    second = moment.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    early, late = (stamp(first), stamp(second))
    if _round_trips(first) or _round_trips(second):
        raise LocalTimeError(
            f"{moment:%Y-%m-%d %H:%M} happens twice in {zone} (the clocks go back): "
            f"it could be {early} or {late}; write the offset, e.g. {early}"
        )
    raise LocalTimeError(
        f"{moment:%Y-%m-%d %H:%M} does not exist in {zone} (the clocks skip it): "
        f"did you mean {stamp(first)} or {stamp(second)}? write the offset"
    )


def stamp(moment: datetime) -> str:
    """A time as the CLI prints it: local wall clock with its UTC offset, to the minute."""
    return moment.isoformat(timespec="minutes")


def shown(moment: datetime | None, zone: tzinfo) -> str:
    """A stored (UTC) time in the author's zone, with its offset and zone name."""
    if moment is None:
        return "-"
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M%z} {local.tzname()}"


def with_author_times(essay: Any, zone: tzinfo) -> Any:
    """The essay with its `publish_at` made aware in the author's zone, for connectors:
    what they send (`date_gmt`, `post_date`, `published_at`, `scheduled_for`) is then the
    author's instant whatever the platform's default zone."""
    if essay.publish_at is None or essay.publish_at.tzinfo is not None:
        return essay
    return essay.model_copy(update={"publish_at": author_time(essay.publish_at, zone)})
