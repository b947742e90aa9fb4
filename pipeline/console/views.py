"""Small pure helpers the templates use: times in the author's zone, calendar grids, which
step buttons a row shows, and which part of a blog request body is its HTML."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

# Which buttons a row in a state shows. Only a hint for the page: the engine decides, and a
# step it refuses comes back with its reason (the CLI's message).
STEPS_SHOWN = {
    "failed": ("retry", "reschedule", "confirm", "cancel"),
    "scheduled": ("retry", "reschedule", "cancel"),
    "planned": ("reschedule", "cancel"),
    "cancelled": ("retry", "reschedule"),
    "awaiting-manual": ("confirm", "cancel"),
    "publishing": (),
    "published": (),
}


def shown_time(moment: datetime | None, zone: ZoneInfo) -> str:
    """A stored time in the author's zone with its offset, as the CLI's tables show it."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %z") if moment else "–"


def input_time(moment: datetime | None, zone: ZoneInfo) -> str:
    """The value of a `datetime-local` field: the author's wall clock, to the minute."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if moment else ""


def split_error(text: str | None) -> tuple[str, str]:
    """A stored failure is "what happened -- next step: what to do"; shown as two parts."""
    if not text:
        return "", ""
    said, _, step = text.partition(" -- next step: ")
    return said, step


BODY_KEYS = ("html", "content", "body_html")  # what blog APIs call a post's HTML body


def body_html(request: dict[str, Any]) -> str | None:
    """A blog request body's HTML (`html`, `content` or `body_html`, at any depth): the body
    as the platform will show it; None for a body in Markdown or an editor's JSON."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key in BODY_KEYS and isinstance(inner, str) and "<" in inner:
                    found.append(inner)
                else:
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(request)
    return max(found, key=len) if found else None


@dataclass
class JournalLine:
    index: int  # 0-based post of the publication (a thread has several)
    begun: bool
    remote: dict[str, Any] | None


def journal(progress: dict[str, Any] | None) -> list[JournalLine]:
    """The connector's journal per post: begun before the request, answered after it; a
    post begun and never answered is looked up before anything is sent again."""
    if not progress:
        return []
    begun = {int(i) for i in progress.get("begun", [])}
    remotes = {int(k): v for k, v in (progress.get("remotes") or {}).items()}
    return [JournalLine(i, i in begun, remotes.get(i)) for i in sorted(begun | set(remotes))]


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


CELL_ITEMS = 6  # publications drawn per calendar cell; the rest are a link to the queue


@dataclass
class Day:
    day: date
    items: list[Any] = field(default_factory=list)
    by_target: dict[str, list[Any]] = field(default_factory=dict)
    outside: bool = False  # a day of the previous or next month in a month grid
    today: bool = False


@dataclass
class Grid:
    view: str  # week | month
    anchor: date
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    weeks: list[list[Day]]
    previous: date
    following: date
    title: str


def grid(view: str, anchor: date, zone: ZoneInfo, today: date) -> Grid:
    """The days of a week (Monday first) or of a month's weeks, in the author's zone."""
    if view == "month":
        first = anchor.replace(day=1)
        start_day = first - timedelta(days=first.weekday())
        following = (first + timedelta(days=32)).replace(day=1)
        end_day = following + timedelta(days=(7 - following.weekday()) % 7)
        previous = (first - timedelta(days=1)).replace(day=1)
        title = first.strftime("%B %Y")
    else:
        view = "week"
        start_day = anchor - timedelta(days=anchor.weekday())
        end_day = start_day + timedelta(days=7)
        previous, following = start_day - timedelta(days=7), end_day
        title = f"Week of {start_day:%d %B %Y}"
    days = [start_day + timedelta(days=n) for n in range((end_day - start_day).days)]
    weeks = [
        [
            Day(d, outside=view == "month" and d.month != anchor.month, today=d == today)
            for d in days[i : i + 7]
        ]
        for i in range(0, len(days), 7)
    ]
    return Grid(
        view=view,
        anchor=anchor,
        start=datetime.combine(start_day, time(0), tzinfo=zone).astimezone(UTC),
        end=datetime.combine(end_day, time(0), tzinfo=zone).astimezone(UTC),
        weeks=weeks,
        previous=previous,
        following=following,
        title=title,
    )


def place(g: Grid, items: list[Any], zone: ZoneInfo) -> None:
    """Put each publication on its day (its due time in the author's zone)."""
    days = {d.day: d for week in g.weeks for d in week}
    for item in items:
        day = days.get(item.due_at.astimezone(zone).date())
        if day is not None:
            day.items.append(item)
            day.by_target.setdefault(item.target, []).append(item)
