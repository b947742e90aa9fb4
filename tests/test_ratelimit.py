"""The per-target rate limiter: publications wait for a free slot instead of meeting a 429."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.mastodon import Mastodon
from pipeline.publishing.pipeline import Pipeline
from pipeline.ratelimit import MARGIN, SLACK_SECONDS, RateLimits
from pipeline.readers import read_bytes
from pipeline.settings import Settings, load_settings
from pipeline.store import State
from tests.daemon_helpers import EXAMPLE, crosspost, make_home, status
from tests.emulators.mastodon import MastodonEmulator

TOKEN = "ratelimit-test-token"


class FakeClock:
    def __init__(self) -> None:
        self.at = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def settings_with(tmp_path: Path, limit: str = "rate_limit = [2, 10]") -> Settings:
    home = make_home(
        tmp_path,
        f"""
        [targets.toot]
        platform = "mastodon"
        base_url = "http://127.0.0.1:9"
        {limit}
        [targets.site]
        platform = "static_site"
        """,
    )
    return load_settings(home)


def span(seconds: float) -> float:
    return seconds * (1 + MARGIN) + SLACK_SECONDS


def test_requests_beyond_the_limit_wait_until_the_oldest_leaves_the_window(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    limits = RateLimits(settings_with(tmp_path), clock)
    assert limits.admit("toot", key=1) == 0
    clock.advance(1)
    assert limits.admit("toot", key=2) == 0
    wait = limits.admit("toot", key=3)
    assert wait == pytest.approx(span(10) - 1)
    clock.advance(wait)
    assert limits.admit("toot", key=3) == 0


def test_a_backlog_gets_spread_out_slots_not_one_stampede(tmp_path: Path) -> None:
    clock = FakeClock()
    limits = RateLimits(settings_with(tmp_path), clock)
    assert [limits.admit("toot", key=k) for k in (1, 2)] == [0, 0]
    waits = [limits.admit("toot", key=k) for k in (3, 4, 5, 6, 7)]
    assert waits[:2] == pytest.approx([span(10)] * 2)
    assert waits[2:4] == pytest.approx([2 * span(10)] * 2)
    assert waits[4] == pytest.approx(3 * span(10))


def test_targets_without_a_limit_are_never_held(tmp_path: Path) -> None:
    clock = FakeClock()
    limits = RateLimits(settings_with(tmp_path), clock)
    assert all(limits.admit("site", key=k) == 0 for k in range(1000))


def test_a_429_holds_even_a_target_without_a_documented_limit(tmp_path: Path) -> None:
    clock = FakeClock()
    limits = RateLimits(settings_with(tmp_path), clock)
    limits.block("site", 30)
    assert limits.admit("site", key=1) == pytest.approx(30)
    clock.advance(31)
    assert limits.admit("site", key=1) == 0


def test_the_setting_overrides_the_connectors_documented_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Mastodon, "rate_limit", (300, 300.0), raising=False)
    documented = RateLimits(settings_with(tmp_path / "a", limit=""), FakeClock())
    assert documented.limit_for("toot") == (300, 300.0)
    overridden = RateLimits(settings_with(tmp_path / "b"), FakeClock())
    assert overridden.limit_for("toot") == (2, 10.0)


def test_a_bad_limit_in_settings_is_refused_naming_the_key(tmp_path: Path) -> None:
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match=r"targets\.toot\.rate_limit"):
        settings_with(tmp_path, "rate_limit = [0, 10]")


def test_a_429_holds_the_target_for_the_time_the_platform_asked(tmp_path: Path) -> None:
    clock = FakeClock()
    limits = RateLimits(settings_with(tmp_path), clock)
    limits.block("toot", 30)
    assert limits.admit("toot", key=1) == pytest.approx(30)
    clock.advance(30)
    assert limits.admit("toot", key=1) == 0


def test_a_thread_longer_than_the_limit_goes_alone_into_an_empty_window(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    limits = RateLimits(settings_with(tmp_path), clock)
    assert limits.admit("toot", cost=5, key=1) == 0
    assert limits.admit("toot", cost=1, key=2) == pytest.approx(span(10))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=4), min_size=1, max_size=60))
def test_no_window_ever_holds_more_than_the_limit(gaps: list[float]) -> None:
    """Requests arriving at random and retrying when told: any 10 s hold at most 2."""
    clock = FakeClock()
    settings_ = Settings(targets={"toot": {"platform": "mastodon", "rate_limit": [2, 10]}})
    limits = RateLimits(settings_, clock)
    start = clock.at
    pending: list[tuple[float, int]] = []  # (when to ask, key)
    sent: list[float] = []
    at = 0.0
    for key, gap in enumerate(gaps):
        at += gap
        pending.append((at, key))
    while pending:
        pending.sort()
        when, key = pending.pop(0)
        clock.at = max(clock.at, start + timedelta(seconds=when))
        wait = limits.admit("toot", key=key)
        now = (clock.at - start).total_seconds()
        if wait == 0:
            sent.append(now)
        else:
            pending.append((now + wait, key))
    assert len(sent) == len(gaps)
    for t in sent:
        assert len([s for s in sent if t - 10 < s <= t]) <= 2


# ------------------------------------------------------------ through the engine


@pytest.fixture
def mastodon() -> MastodonEmulator:
    emulator = MastodonEmulator(rate_limit=5, rate_window=1.0)
    emulator.add_account(TOKEN, "writer")
    with emulator:
        yield emulator


def test_a_backlog_is_published_within_the_platform_limit_without_a_single_429(
    tmp_path: Path, mastodon: MastodonEmulator
) -> None:
    home = make_home(
        tmp_path,
        f"""
        timezone = "UTC"
        [targets.toot]
        platform = "mastodon"
        base_url = "{mastodon.base_url}"
        credentials = {{ access_token = "{TOKEN}" }}
        rate_limit = [5, 1]
        """,
    )
    engine = Pipeline(home, load_settings(home))
    try:
        text = EXAMPLE.read_text(encoding="utf-8")
        for index in range(12):
            data = text.replace("Own Your Archive", f"Own Your Archive {index}").replace(
                "own-your-archive", f"own-your-archive-{index}"
            )
            essay = read_bytes(Path(f"e{index}.md"), data.encode())
            engine.add_essay(essay, f"e{index}.md", data.encode())
        deferred_quickly = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            rows = engine.store.publications()
            if all(r.state == State.PUBLISHED.value for r in rows):
                break
            for pub_id in engine.due():
                started = time.monotonic()
                if engine.publish(pub_id) is State.SCHEDULED:
                    deferred_quickly.append(time.monotonic() - started < 0.5)
            time.sleep(0.01)
        rows = engine.store.publications()
    finally:
        engine.close()
    assert {r.state for r in rows} == {State.PUBLISHED.value}
    assert deferred_quickly and all(deferred_quickly)  # waited without blocking a thread
    assert {r.attempts for r in rows} == {1}  # a deferral is not an attempt
    api_requests = [r for r in mastodon.requests_seen if r.path != "/api/v2/instance"]
    assert len(api_requests) == sum(mastodon.handled.values())  # no request got a 429
    texts = Counter(s["text"] for s in mastodon.published())
    assert len(texts) == 12 and set(texts.values()) == {1}


def test_a_restarted_process_still_counts_what_the_last_one_sent(tmp_path: Path) -> None:
    """A crash and restart must not open a fresh window: the platform still counts the posts."""
    home = make_home(
        tmp_path,
        """
        timezone = "UTC"
        [targets.announce]
        platform = "outbox"
        options = { as = "mastodon" }
        rate_limit = [2, 600]
        """,
    )
    text = EXAMPLE.read_text(encoding="utf-8")
    for index in range(3):
        variant = text.replace("Own Your Archive", f"Own Your Archive {index}")
        (home / "inbox" / f"e{index}.md").write_text(
            variant.replace("own-your-archive", f"own-your-archive-{index}"), encoding="utf-8"
        )
        result = crosspost(home, "run", "--once")  # one process per essay
        assert result.returncode == 0, result.stderr
    states = Counter(row["state"] for row in status(home))
    assert states == {"published": 2, "scheduled": 1}
    assert len(list((home / "outbox" / "announce").glob("*.json"))) == 2
