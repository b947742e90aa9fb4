"""Counting line by line (what lets the composer recount only the line it changed) gives the
same number as counting the whole text at once, for every counter, on texts built from the
characters that join or split clusters, URLs, mentions and emoji."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.render.lengths import (
    _graphemes_whole,
    _mastodon_whole,
    _url_count_whole,
    _x_weights,
    count_mastodon,
    counting_by_line,
    find_urls,
    graphemes,
    url_count,
    x_weighted_length,
)

PIECES = [
    "\n", "\n", "\r", "\r\n", " ", "\t", "a", "Z", "9", ".", "-", "/", "@", "#", "(", ")",
    "\u0301",  # combining acute: joins the character before it
    "\u200d", "\ufe0f", "\u20e3", "\U0001f3fd",  # ZWJ, VS16, keycap, skin tone
    "\U0001f44d", "\u2764", "\U0001f525", "\U0001f1eb\U0001f1f7", "\U0001f1e9",
    "\u0600", "\u0915\u094d\u0937", "\u094d", "\u1100\u1161", "\u11a8", "日本", "e\u0301",
    "https://example.com/a_(b)", "example.org", "t.co/x", "@user@mastodon.social", "#tag",
    "\u00e9", "\u2028", "\u3000", "\u2014",
]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_graphemes_and_links_add_up_over_lines(text: str) -> None:
    with counting_by_line():
        assert graphemes(text) == _graphemes_whole(text)
        assert url_count(text) == _url_count_whole(text) == len(find_urls(text))


@settings(max_examples=400, deadline=None)
@given(texts)
def test_mastodon_adds_up_over_lines(text: str) -> None:
    with counting_by_line():
        assert count_mastodon(text) == _mastodon_whole(text)
        assert count_mastodon(text, url_length=5) == _mastodon_whole(text, url_length=5)


@settings(max_examples=400, deadline=None)
@given(texts, st.booleans())
def test_x_adds_up_over_lines(text: str, emoji_parsing: bool) -> None:
    whole = max(_x_weights(unicodedata.normalize("NFC", text), emoji_parsing)) // 100
    with counting_by_line():
        assert x_weighted_length(text, emoji_parsing=emoji_parsing) == whole
