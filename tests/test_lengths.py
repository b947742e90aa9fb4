"""Our counters agree with the platforms' own counting code and conformance data."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from mastodon import Mastodon
from twitter_text import parse_tweet

from pipeline.render.lengths import (
    BLUESKY_MAX_BYTES,
    RULES,
    count_linkedin,
    count_mastodon,
    count_telegram,
    count_threads,
    count_x,
    find_urls,
    fits_bluesky,
    graphemes,
    x_weighted_length,
)

CONFORMANCE = yaml.safe_load(
    (Path(__file__).parent / "data" / "twitter_text_conformance.yml").read_text("utf-8")
)


def _cases(*sections: str) -> list:
    return [
        pytest.param(case["text"], case["weightedLength"], id=f"{name}: {case['description']}")
        for name in sections
        for case in CONFORMANCE[name]
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    _cases("WeightedTweetsWithDiscountedEmojiCounterTest", "UnicodeDirectionalMarkerCounterTest"),
)
def test_x_count_matches_twitter_text_v3_conformance(text: str, expected: int) -> None:
    assert count_x(text) == expected


@pytest.mark.parametrize(("text", "expected"), _cases("WeightedTweetsCounterTest"))
def test_x_count_without_emoji_parsing_matches_v2_conformance(text: str, expected: int) -> None:
    assert x_weighted_length(text, emoji_parsing=False) == expected


# Pieces of realistic post text. Emoji are ones in twitter-text's (2020) emoji data; URLs use
# real TLDs, since we accept any alphabetic TLD where twitter-text checks IANA's list.
PIECES = [
    "the",
    "Essay",
    "writing,",
    "l'été",
    "naïve",
    "über",
    "(aside)",
    "end.",
    "Why?",
    "yes!",
    "日本語",
    "文章を書く。",
    "中文",
    "한국어",
    "Привет",
    "שלום",
    "مرحبا",
    "क्षत्रिय",
    "हिन्दी",
    "😀",
    "👍🏽",
    "👨\u200d👩\u200d👧\u200d👦",
    "🇩🇪",
    "❤️",
    "☺",
    "©",
    "1\u20e3",
    "🏳️\u200d🌈",
    "e\u0301",
    "—",
    "…",
    "“quoted”",
    "‘single’",
    "@someone",
    "@alice@example.social",
    "#tag",
    "https://example.com",
    "https://blog.example.org/2024/05/why-i-write/",
    "http://test.co",
    "https://en.wikipedia.org/wiki/Essay_(genre)",
    "(https://example.net/a)",
    "https://example.com/path?query=1&b=2.",
    "example.com",
    "www.example.org/page",
    "https://例え.jp/パス",
    "1,234",
    "3.14",
    "v1.2.3",
    "\n",
    "\n\n",
    "  ",
]
texts = st.lists(st.sampled_from(PIECES), max_size=40).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(texts)
def test_x_count_agrees_with_twitter_text(text: str) -> None:
    assert count_x(text) == parse_tweet(text).weightedLength


@settings(max_examples=200, deadline=None)
@given(texts)
def test_mastodon_count_agrees_with_mastodon_py(text: str) -> None:
    assert count_mastodon(text) == Mastodon.get_status_length(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain words only",
        "A link https://example.com/a/very/long/path/that/is/much/longer/than/23 here",
        "Ping @alice@mastodon.social and @bob",
        "Family 👨‍👩‍👧‍👦 flag 🇫🇷 skin 👍🏾",
        "क्षत्रिय हिन्दी",
        "Wrapped (https://example.com/x) and trailing https://example.org.",
    ],
)
def test_mastodon_count_agrees_with_mastodon_py_on_known_strings(text: str) -> None:
    assert count_mastodon(text) == Mastodon.get_status_length(text)


def test_mastodon_counts_any_url_as_the_instance_reserved_length() -> None:
    url = "https://example.com/" + "x" * 100
    assert count_mastodon(f"see {url}") == len("see ") + 23
    assert count_mastodon(f"see {url}", url_length=30) == len("see ") + 30


def test_x_counts_a_bare_domain_as_a_link_but_mastodon_does_not() -> None:
    assert count_x("visit example.com") == len("visit ") + 23
    assert count_mastodon("visit example.com") == len("visit example.com")


def test_urls_leave_trailing_punctuation_and_unbalanced_parens_outside() -> None:
    text = "See https://example.com/a. Or (https://example.org/b), or https://w.org/X_(y)!"
    found = [text[s:e] for s, e in find_urls(text)]
    assert found == ["https://example.com/a", "https://example.org/b", "https://w.org/X_(y)"]


def test_bare_domains_are_found_only_when_asked() -> None:
    text = "read example.com and https://example.org"
    assert [text[s:e] for s, e in find_urls(text)] == ["example.com", "https://example.org"]
    assert [text[s:e] for s, e in find_urls(text, bare_domains=False)] == ["https://example.org"]


def test_an_email_address_is_not_a_link() -> None:
    assert find_urls("write to me@example.com") == []


def test_graphemes_count_what_a_reader_sees_as_one_character() -> None:
    assert graphemes("e\u0301") == 1
    assert graphemes("👨‍👩‍👧‍👦") == 1
    assert graphemes("🇩🇪🇫🇷") == 2


def test_bluesky_rejects_text_over_the_byte_limit_even_under_300_graphemes() -> None:
    family = "👨‍👩‍👧‍👦"
    per = len(family.encode("utf-8"))
    fitting = family * (BLUESKY_MAX_BYTES // per)
    over = fitting + family
    assert graphemes(over) <= 300
    assert fits_bluesky(fitting) and RULES["bluesky"].fits(fitting)
    assert not fits_bluesky(over) and not RULES["bluesky"].fits(over)


def test_bluesky_rejects_301_graphemes() -> None:
    assert RULES["bluesky"].fits("a" * 300)
    assert not RULES["bluesky"].fits("a" * 301)


def test_threads_counts_emoji_as_their_utf8_bytes() -> None:
    assert count_threads("hi") == 2
    assert count_threads("hi 😀") == 3 + len("😀".encode())
    family = "👨‍👩‍👧‍👦"
    assert count_threads(family) == len(family.encode())
    assert count_threads("日本") == 2


def test_linkedin_and_telegram_count_an_astral_emoji_as_two_units() -> None:
    # Never fewer than code points: a JavaScript-style length check sees a surrogate pair.
    for count in (count_linkedin, count_telegram):
        assert count("naïve 日本") == len("naïve 日本")
        assert count("😀") == 2


@settings(max_examples=100, deadline=None)
@given(texts)
def test_every_rule_fits_exactly_up_to_its_limit(text: str) -> None:
    for rule in RULES.values():
        assert rule.fits(text) == (
            rule.count(text) <= rule.limit
            and (rule.max_bytes is None or len(text.encode()) <= rule.max_bytes)
            and (rule.max_links is None or len(find_urls(text)) <= rule.max_links)
        )
