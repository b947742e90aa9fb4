"""X counts every emoji sequence as twitter-text's parsers do, and never less than either.

References: twitter-text-parser (PyPI, Emoji 12.0 list) in process, and twitter-text 3.1 (npm,
the official JavaScript library, twemoji-parser 11 list) run by node. Where they disagree our
count is the larger one, since a post X counts longer than we did is refused.
"""

from __future__ import annotations

import emoji
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twitter_text import parse_tweet

from pipeline.document import Essay, Paragraph, Run
from pipeline.render.composer import announcement
from pipeline.render.lengths import RULES, count_x
from tests.references.platform_js import platform_references

EVERY_EMOJI = sorted(emoji.EMOJI_DATA)


def _references(text: str) -> tuple[int, int]:
    return parse_tweet(text).weightedLength, platform_references().x_weighted_length(text)


def test_every_emoji_sequence_counts_as_the_larger_of_both_parsers_alone_and_in_text() -> None:
    wrong = []
    for sequence in EVERY_EMOJI:
        for text in (sequence, f"a{sequence}b", f"{sequence} {sequence}"):
            python, javascript = _references(text)
            if count_x(text) != max(python, javascript):
                wrong.append((text, count_x(text), python, javascript))
    assert wrong == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("❤️‍🔥", 5),  # Emoji 13.1: heart 2, ZWJ 1, fire 2
        ("🐦‍⬛", 5),  # Emoji 15.0
        ("🧑🏽‍🤝‍🧑🏻", 8),  # Emoji 12.0 for the Python parser, split by twemoji-parser 11
        ("👩🏻‍❤️‍👨🏿", 8),  # Emoji 13.1 couple with two skin tones: 2 + 1 + 2 + 1 + 2
        ("🇺🇦", 2),
        ("🇦🇦", 4),  # two regional indicators that are no flag
        ("#️⃣", 2),
        ("1️⃣", 2),
        ("🏴󠁧󠁢󠁳󠁣󠁴󠁿", 2),  # Scotland: listed
        ("🏴󠁵󠁳󠁴󠁸󠁿", 12),  # Texas: a tag sequence neither parser lists
        ("a\r\nb", 4),  # twitter-text 3.1 counts CR and LF
    ],
)
def test_newer_and_unlisted_sequences_count_their_parts(text: str, expected: int) -> None:
    assert count_x(text) == expected
    assert expected == max(_references(text))


def test_a_title_of_new_emoji_is_counted_as_twitter_text_weighs_it() -> None:
    # Once counted 232 (each ❤️‍🔥 as 2): X would have refused the post.
    title = "❤️‍🔥" * 100 + " Thirty-two characters: a title."
    assert parse_tweet(title).weightedLength == 532
    assert count_x(title) == 532
    assert not RULES["x"].fits(title)


# Pieces to build emoji-dense text from: every listed sequence, the parts sequences are made of
# (so unlisted combinations arise), and ordinary text.
PARTS = [
    "\u200d",
    "\ufe0f",
    "\ufe0e",
    "\u20e3",
    *(chr(c) for c in range(0x1F3FB, 0x1F400)),  # skin tones
    *(chr(c) for c in range(0x1F1E6, 0x1F200, 5)),  # regional indicators
    "\U000e0067",
    "\U000e0062",
    "\U000e007f",
    "#",
    "*",
    "7",
    "❤",
    "🔥",
    "🐦",
    "⬛",
    "🧑",
    "👩",
    "🤝",
    "🏳",
    "⚧",
    "👁",
    "🗨",
    "🫠",
]
WORDS = ["the", " ", "\n", "日本語", "é", "—", "…", "©", "naïve", "𝐀", "한국어", "Привет", ", "]
pieces = st.one_of(st.sampled_from(EVERY_EMOJI), st.sampled_from(PARTS), st.sampled_from(WORDS))
emoji_text = st.lists(pieces, max_size=60).map("".join)


@settings(max_examples=300, deadline=None)
@given(emoji_text)
def test_x_count_is_never_below_twitter_text_and_equal_where_its_parsers_agree(text: str) -> None:
    python, javascript = _references(text)
    ours = count_x(text)
    assert ours >= python
    assert ours == max(python, javascript)
    if javascript <= python:
        assert ours == python


def test_an_announcement_with_a_title_of_new_emoji_is_shortened_until_x_accepts_it() -> None:
    essay = Essay(
        title="❤️‍🔥🐦‍⬛🙂‍↔️ " * 40 + "Notes",
        blocks=[Paragraph(runs=[Run(text="A short lead.")])],
    )
    post = announcement(essay, "https://blog.example.org/essay", RULES["x"])
    assert post.endswith("https://blog.example.org/essay")
    python, javascript = _references(post)
    assert parse_tweet(post).valid and max(python, javascript) <= 280
    assert count_x(post) == max(python, javascript)
