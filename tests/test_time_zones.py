"""A naive time is the author's, everywhere: what each platform is sent is the intended instant.

Zones east (Europe/Berlin) and west (America/Los_Angeles) of UTC, in summer and winter; times
the clocks skip or pass twice are refused by `plan`, `preview`, the inbox and `reschedule`,
with both readings named.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connectors import connector_class
from connectors.base import RenderContext
from pipeline.document import Essay
from pipeline.timezones import with_author_times
from tests.daemon_helpers import EXAMPLE, crosspost, make_home, status

SCHEDULING = """
timezone = "{zone}"
[targets.wp]
platform = "wordpress"
base_url = "https://blog.example"
options = {{ schedule_on_platform = true }}
[targets.gh]
platform = "ghost"
base_url = "https://ghost.example"
options = {{ schedule_on_platform = true }}
[targets.pt]
platform = "patreon"
options = {{ schedule_on_platform = true }}
"""

# (zone, naive local time, the instant it means)
CASES = [
    ("Europe/Berlin", "2030-07-01T09:00:00", datetime(2030, 7, 1, 7, 0, tzinfo=UTC)),
    ("Europe/Berlin", "2030-01-15T09:00:00", datetime(2030, 1, 15, 8, 0, tzinfo=UTC)),
    ("America/Los_Angeles", "2030-07-01T09:00:00", datetime(2030, 7, 1, 16, 0, tzinfo=UTC)),
    ("America/Los_Angeles", "2030-01-15T09:00:00", datetime(2030, 1, 15, 17, 0, tzinfo=UTC)),
]
SKIPPED = [("Europe/Berlin", "2030-03-31T02:30:00"), ("America/Los_Angeles", "2030-03-10T02:30:00")]
REPEATED = [
    ("Europe/Berlin", "2030-10-27T02:30:00"),
    ("America/Los_Angeles", "2030-11-03T01:30:00"),
]


def essay_file(tmp: Path, publish_at: str) -> Path:
    path = tmp / "timed.md"
    path.write_text(f"---\ntitle: Timed\npublish_at: {publish_at}\n---\nBody text.\n")
    return path


@pytest.mark.parametrize(("zone", "naive", "instant"), CASES)
def test_each_platform_is_sent_the_authors_instant_for_a_naive_publish_at(
    tmp_path: Path, zone: str, naive: str, instant: datetime
) -> None:
    home = make_home(tmp_path, SCHEDULING.format(zone=zone))
    shown = crosspost(home, "preview", str(essay_file(tmp_path, naive)), "--json")
    assert shown.returncode == 0, shown.stderr
    sent = {
        name: t["posts"][0]["request"] for name, t in json.loads(shown.stdout)["targets"].items()
    }
    assert datetime.fromisoformat(sent["wp"]["date_gmt"]).replace(tzinfo=UTC) == instant
    assert datetime.fromisoformat(sent["gh"]["posts"][0]["published_at"]) == instant
    assert datetime.fromisoformat(sent["pt"]["scheduled_for"]) == instant
    # Substack's schedule call is not part of the draft's request body: its render, through
    # the same `with_author_times` the engine applies before every render
    essay = Essay(title="Timed", blocks=[], publish_at=datetime.fromisoformat(naive))
    options = {"schedule_on_platform": True, "publication": "x"}
    draft = connector_class("substack").render(
        with_author_times(essay, ZoneInfo(zone)), RenderContext(target="ss", options=options)
    )
    assert datetime.fromisoformat(draft.extras["post_date"].replace("Z", "+00:00")) == instant

    planned = crosspost(home, "plan", str(essay_file(tmp_path, naive)))
    assert planned.returncode == 0, planned.stderr
    offset = instant.astimezone(ZoneInfo(zone)).strftime("%z")
    assert offset in planned.stdout  # every printed time carries its offset


@pytest.mark.parametrize(("zone", "naive"), SKIPPED + REPEATED)
def test_a_local_time_that_is_skipped_or_repeated_is_refused_naming_both_readings(
    tmp_path: Path, zone: str, naive: str
) -> None:
    home = make_home(tmp_path, SCHEDULING.format(zone=zone))
    source = essay_file(tmp_path, naive)
    stamp = naive[:16]
    for command in ("plan", "preview"):
        refused = crosspost(home, command, str(source))
        assert refused.returncode == 2, refused.stdout
        readings = [part for part in refused.stderr.split() if part.startswith(stamp)]
        assert len(set(readings)) == 2, refused.stderr  # e.g. 02:30+01:00 and 02:30+02:00
        assert "Error" not in refused.stderr and "Traceback" not in refused.stderr
    if zone != "Europe/Berlin":
        return  # the inbox's path is the planner's, checked once per kind of time below
    shutil.copy(source, home / "inbox")
    assert crosspost(home, "run", "--once").returncode == 3  # a refused file: the documented code
    reason = (home / "failed" / "timed.md.error.txt").read_text()
    assert stamp in reason and ("does not exist" in reason or "happens twice" in reason)
    assert (home / "failed" / "timed.md").read_bytes() == source.read_bytes()


def test_reschedule_reads_naive_times_in_the_authors_zone_and_refuses_ambiguous_ones(
    tmp_path: Path,
) -> None:
    home = make_home(
        tmp_path,
        """
        timezone = "America/Los_Angeles"
        [targets.site]
        platform = "static_site"
        [targets.later]
        platform = "outbox"
        offset = "30d"
        """,
    )
    shutil.copy(EXAMPLE, home / "inbox")
    assert crosspost(home, "run", "--once").returncode == 0
    later = next(r for r in status(home) if r["target"] == "later")
    moved = crosspost(home, "reschedule", str(later["id"]), "2030-07-01T09:00")
    assert moved.returncode == 0, moved.stderr
    assert "2030-07-01 09:00-0700" in moved.stdout
    row = next(r for r in status(home) if r["id"] == later["id"])
    assert datetime.fromisoformat(row["due_at"]) == datetime(2030, 7, 1, 16, 0, tzinfo=UTC)
    refused = crosspost(home, "reschedule", str(later["id"]), "2030-11-03T01:30")
    assert refused.returncode == 2
    assert "2030-11-03T01:30-07:00" in refused.stderr and "2030-11-03T01:30-08:00" in refused.stderr
    unchanged = next(r for r in status(home) if r["id"] == later["id"])
    assert unchanged["due_at"] == row["due_at"]


def test_a_slot_is_never_before_the_due_time_in_the_repeated_hour() -> None:
    from pipeline.publishing.planner import next_slot
    from pipeline.settings import TargetSettings

    zone = ZoneInfo("Europe/Berlin")
    due = datetime(2030, 10, 27, 1, 15, tzinfo=UTC)  # 02:15 local, the second pass (+01:00)
    target = TargetSettings(platform="outbox", slots=["02:30"])
    slot = next_slot(due, target, zone, [])
    assert slot >= due
