"""The planner's rules, each with a fixed clock: immediately, at a time, relative,
after a URL, time slots in the author's zone, and front-matter overrides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pipeline.document import Essay
from pipeline.publishing.planner import plan
from pipeline.settings import Settings, TargetSettings
from pipeline.store import State

NOW = datetime(2025, 6, 2, 6, 30, tzinfo=UTC)  # 08:30 in Berlin (CEST)
BERLIN = ZoneInfo("Europe/Berlin")


def settings(**targets: dict) -> Settings:
    return Settings(
        timezone="Europe/Berlin",
        targets={name: TargetSettings(**spec) for name, spec in targets.items()},
    )


def by_target(essay: Essay, config: Settings, now: datetime = NOW, booked=None) -> dict:
    return {p.target: p for p in plan(essay, config, now, booked).publications}


def test_targets_without_rules_are_due_immediately() -> None:
    result = by_target(
        Essay(title="T"), settings(blog={"platform": "wordpress"}, toots={"platform": "mastodon"})
    )
    assert result["blog"].state is State.SCHEDULED and result["blog"].due_at == NOW
    assert result["toots"].due_at == NOW


def test_publish_at_in_front_matter_sets_the_time_in_the_authors_zone() -> None:
    essay = Essay(title="T", publish_at=datetime(2025, 6, 3, 9, 0))  # naive: Berlin time
    result = by_target(essay, settings(blog={"platform": "wordpress"}))
    assert result["blog"].due_at == datetime(2025, 6, 3, 7, 0, tzinfo=UTC)


def test_publish_at_in_the_past_publishes_now_and_says_so() -> None:
    essay = Essay(title="T", publish_at=datetime(2020, 1, 1, tzinfo=UTC))
    result = plan(essay, settings(blog={"platform": "wordpress"}), NOW)
    assert result.publications[0].due_at == NOW
    assert any("in the past" in note for note in result.notes)


def test_relative_target_follows_its_reference_by_the_offset() -> None:
    config = settings(
        patrons={"platform": "patreon"},
        blog={"platform": "wordpress", "relative_to": "patrons", "offset": "48h"},
    )
    result = by_target(Essay(title="T"), config)
    assert result["patrons"].due_at == NOW
    assert result["blog"].due_at == NOW + timedelta(hours=48)


def test_after_target_waits_for_the_blog_url() -> None:
    config = settings(
        blog={"platform": "wordpress"}, toots={"platform": "mastodon", "after": "blog"}
    )
    result = by_target(Essay(title="T"), config)
    assert result["toots"].state is State.PLANNED
    assert result["toots"].depends_on == "blog" and result["toots"].wait_for == "url"
    assert result["toots"].due_at is None


def test_slots_take_the_next_free_slot_in_the_authors_time_zone() -> None:
    config = settings(toots={"platform": "mastodon", "slots": ["09:00", "13:00", "18:00"]})
    result = by_target(Essay(title="T"), config)
    # 08:30 Berlin -> 09:00 Berlin = 07:00 UTC
    assert result["toots"].due_at == datetime(2025, 6, 2, 7, 0, tzinfo=UTC)


def test_slots_already_booked_move_to_the_next_one() -> None:
    config = settings(toots={"platform": "mastodon", "slots": ["09:00", "13:00"]})
    booked = {"toots": [datetime(2025, 6, 2, 7, 0, tzinfo=UTC)]}
    result = by_target(Essay(title="T"), config, booked=booked)
    assert result["toots"].due_at.astimezone(BERLIN).strftime("%H:%M") == "13:00"


def test_max_per_day_moves_to_the_next_day() -> None:
    config = settings(
        toots={"platform": "mastodon", "slots": ["09:00", "13:00", "18:00"], "max_per_day": 1}
    )
    booked = {"toots": [datetime(2025, 6, 2, 16, 0, tzinfo=UTC)]}  # 18:00 today taken
    due = by_target(Essay(title="T"), config, booked=booked)["toots"].due_at.astimezone(BERLIN)
    assert (due.date().isoformat(), due.strftime("%H:%M")) == ("2025-06-03", "09:00")


def test_slots_respect_daylight_saving_change() -> None:
    # 2025-10-26: Berlin leaves summer time; 09:00 local is 08:00 UTC that day
    now = datetime(2025, 10, 26, 1, 0, tzinfo=UTC)
    config = settings(toots={"platform": "mastodon", "slots": ["09:00"]})
    assert by_target(Essay(title="T"), config, now)["toots"].due_at == datetime(
        2025, 10, 26, 8, 0, tzinfo=UTC
    )


def test_front_matter_switches_a_target_off_and_overrides_options() -> None:
    config = settings(
        blog={"platform": "wordpress"}, x={"platform": "x"}, toots={"platform": "mastodon"}
    )
    essay = Essay(title="T", targets={"x": False, "toots": {"mode": "thread"}})
    result = plan(essay, config, NOW)
    assert {p.target for p in result.publications} == {"blog", "toots"}
    assert any("switched off" in note for note in result.notes)


def test_early_access_hours_put_blogs_behind_the_patron_post() -> None:
    config = settings(
        patreon={"platform": "patreon"},
        blog={"platform": "wordpress"},
        toots={"platform": "mastodon", "after": "blog"},
    )
    essay = Essay(title="T", targets={"patreon": {"access": "patrons", "early_access_hours": 48}})
    result = by_target(essay, config)
    assert result["patreon"].due_at == NOW
    assert result["blog"].due_at == NOW + timedelta(hours=48)
    assert result["toots"].depends_on == "blog"


def test_unknown_front_matter_target_is_ignored_with_a_warning() -> None:
    result = plan(
        Essay(title="T", targets={"nowhere": {}}), settings(blog={"platform": "wordpress"}), NOW
    )
    assert [p.target for p in result.publications] == ["blog"]
    assert any("nowhere" in note for note in result.warnings)


def test_a_target_can_be_offset_from_the_base_time() -> None:
    config = settings(toots={"platform": "mastodon", "offset": "30m"})
    assert by_target(Essay(title="T"), config)["toots"].due_at == NOW + timedelta(minutes=30)


@pytest.mark.parametrize("bad", ["25:00", "9am", "09:60"])
def test_bad_slot_is_refused_at_start(bad: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        TargetSettings(platform="mastodon", slots=[bad])


def test_a_list_of_targets_in_front_matter_means_only_those() -> None:
    config = settings(
        blog={"platform": "wordpress"}, x={"platform": "x"}, toots={"platform": "mastodon"}
    )
    essay = Essay(title="T", targets={"blog": {}, "toots": {}, "*": False})
    result = plan(essay, config, NOW)
    assert {p.target for p in result.publications} == {"blog", "toots"}
    assert any("x: not among" in note for note in result.notes)
