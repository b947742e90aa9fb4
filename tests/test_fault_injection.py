"""Faults injected at the platforms while the whole program runs (issue 6, item 2).

Each platform is an emulator; the real `crosspost run` daemon publishes to it from a temp
home (`tests/faults.py`). Transient faults must end `published` with exactly one post;
permanent ones `failed` with the platform's words and the operator's next step; nothing
may retry in a tight loop, and no emulator may ever have to answer 429. After every
scenario, everything the program printed and wrote is searched for the credentials.

Every platform gets server-error bursts, a lost answer and revoked credentials; the
platforms in `DEEP` (a look-up by idempotency key, a look-up by text, and no look-up at
all) get every fault. `python -m bench.faults` runs every fault on every platform.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults import (
    BURST,
    MAX_ATTEMPTS,
    NO_LOOKUP,
    PLATFORMS,
    RETRY_BASE,
    TIMEOUT,
    Outcome,
    Site,
    after_fault,
    attempts_in,
    lost_response,
    platform_down,
    rate_limited,
    revoked_credentials,
    running,
    server_error_burst,
    slow_answer,
    steady_stream,
    streaming,
    wait_said,
    words_of,
)

pytestmark = pytest.mark.slow  # about 90 s in all: a daemon per platform

DEEP = ("mastodon", "x", "telegram")
STREAMED = {"devto": 6, "telegram": 4, "mastodon": 6}  # essays dropped at once


@pytest.fixture(scope="module")
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """One daemon per platform, shared by that platform's scenarios (each drops its own
    essay and waits for it to finish before the next begins)."""
    platform: str = request.param
    with running(platform, tmp_path_factory.mktemp(platform)) as started:
        yield started


def no_leaks_and_no_throttling(site: Site, outcome: Outcome) -> None:
    assert site.leaks() == []
    assert outcome.throttled == 0, "the emulator had to answer 429"
    assert site.alive()


@pytest.mark.parametrize("site", PLATFORMS, indirect=True)
def test_server_error_bursts_end_published_with_one_post(site: Site) -> None:
    outcome = server_error_burst(site)
    row = outcome.row
    assert row["state"] == "published", row
    assert row["url"]
    assert outcome.posts == 1
    assert row["attempts"] == len(BURST) + 1  # each 5xx cost one attempt, then it went
    no_leaks_and_no_throttling(site, outcome)


@pytest.mark.parametrize("site", PLATFORMS, indirect=True)
def test_lost_answer_is_looked_up_or_left_to_a_person_never_sent_twice(site: Site) -> None:
    outcome = lost_response(site)
    row = outcome.row
    assert outcome.posts == 1  # the platform made it; it must not make a second
    if site.platform in NO_LOOKUP:
        assert row["state"] == "failed", row
        assert "next step: look" in row["last_error"]
        assert "crosspost confirm" in row["last_error"]
    else:
        assert row["state"] == "published", row
        assert row["attempts"] == 2
    no_leaks_and_no_throttling(site, outcome)


@pytest.mark.parametrize("site", PLATFORMS, indirect=True)
def test_revoked_credentials_fail_at_once_with_the_platforms_words(site: Site) -> None:
    outcome = revoked_credentials(site)
    row = outcome.row
    assert row["state"] == "failed", row
    assert row["attempts"] == 1
    assert outcome.posts == 0
    # one refused call (Patreon's refusal is a redirect to its log-in page: two requests),
    # and nothing after it although the scenario kept watching
    assert 1 <= len(outcome.requests) <= 2, [r.path for r in outcome.requests]
    platform_words = words_of(outcome.answers[-1].body)
    assert any(w.lower() in row["last_error"].lower() for w in platform_words), (
        platform_words,
        row["last_error"],
    )
    assert "next step:" in row["last_error"]
    no_leaks_and_no_throttling(site, outcome)


@pytest.mark.parametrize("site", DEEP, indirect=True)
def test_rate_limit_answer_is_waited_out_then_published(site: Site) -> None:
    outcome = rate_limited(site)
    row = outcome.row
    assert row["state"] == "published", row
    assert outcome.posts == 1
    refused, later = after_fault(outcome)
    assert later, "nothing was sent after the 429"
    not_before = wait_said(outcome.extra["fault"], refused.at, outcome.extra["wall_minus_mono"])
    early = later[0].at - not_before
    assert early >= -0.01, f"came back {-early:.2f} s before the platform's wait was over"
    no_leaks_and_no_throttling(site, outcome)


@pytest.mark.parametrize("site", DEEP, indirect=True)
def test_answer_slower_than_the_timeout_is_looked_up_not_sent_twice(site: Site) -> None:
    outcome = slow_answer(site)
    row = outcome.row
    assert outcome.posts == 1  # the slow request landed; nothing else may
    slow, later = after_fault(outcome)
    if site.platform in NO_LOOKUP:
        assert row["state"] == "failed", row
        assert "next step: look" in row["last_error"]
        assert later == []
    else:
        assert row["state"] == "published", row
        # the look-up waits as long again as the answer was given, so a late post is seen
        assert later and later[0].at - slow.at >= 2 * TIMEOUT - 0.05
    no_leaks_and_no_throttling(site, outcome)


@pytest.mark.parametrize("site", DEEP, indirect=True)
def test_platform_down_gives_up_after_max_attempts_with_growing_pauses(site: Site) -> None:
    outcome = platform_down(site)
    row = outcome.row
    assert row["state"] == "failed", row
    assert row["attempts"] == MAX_ATTEMPTS
    assert f"gave up after {MAX_ATTEMPTS} attempts" in row["last_error"]
    assert "503" in row["last_error"]
    assert "crosspost retry" in row["last_error"]
    assert outcome.posts == 0
    attempts = attempts_in(outcome.requests, gap=0.45 * RETRY_BASE)
    assert len(attempts) == MAX_ATTEMPTS, [[r.path for r in a] for a in attempts]
    assert all(len(a) <= 2 for a in attempts)  # no tight loop inside an attempt either
    pauses = [b[0].at - a[-1].at for a, b in itertools.pairwise(attempts)]
    for n, pause in enumerate(pauses, start=1):  # backoff after attempt n: >= base * 2^n / 4
        assert pause >= RETRY_BASE * 2 ** (n - 1) / 2 - 0.01, pauses
    assert pauses[-1] > pauses[0], pauses
    no_leaks_and_no_throttling(site, outcome)


@pytest.mark.parametrize("platform", sorted(STREAMED))
def test_essays_in_a_row_never_make_the_platform_answer_429(platform: str, tmp_path: Path) -> None:
    with streaming(platform, tmp_path) as stream:
        outcome = steady_stream(stream, STREAMED[platform])
        assert outcome.throttled == 0, "the platform had to answer 429: its limit was exceeded"
        assert [r["state"] for r in outcome.rows] == ["published"] * STREAMED[platform]
        assert outcome.posts == STREAMED[platform]
        assert {r["attempts"] for r in outcome.rows} == {1}  # waited its turn, never refused
        no_leaks_and_no_throttling(stream, outcome)
