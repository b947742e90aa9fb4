"""Bluesky facets point at exactly the bytes of their link or tag."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.render.facets import LINK, TAG, bluesky_facets
from pipeline.render.hashtags import hashtag
from tests.references.platform_js import as_we_mean_to_differ, platform_references


def _slice(text: str, facet: dict) -> str:
    index = facet["index"]
    return text.encode("utf-8")[index["byteStart"] : index["byteEnd"]].decode("utf-8")


FILLER = ["word", "日本語の文", "😀", "👨‍👩‍👧‍👦", "é", "Привет", "क्षत्रिय", "🇯🇵", "—", "a.", "x"]
URLS = [
    "https://example.com",
    "https://blog.example.org/2024/05/why-i-write/",
    "https://en.wikipedia.org/wiki/Essay_(genre)",
    "https://例え.jp/パス",
    "http://test.co/a?b=1&c=2",
]
TAGS = ["#writing", "#IndieWeb", "#日本語", "#café", "#a1", "#Über_alles"]


@st.composite
def marked_text(draw: st.DrawFn) -> tuple[str, list[str]]:
    """Text with URLs and tags inserted between filler words, and the marks in order."""
    parts: list[str] = []
    marks: list[str] = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["filler", "url", "tag"]))
        if kind == "filler":
            parts.append(draw(st.sampled_from(FILLER)))
            continue
        mark = draw(st.sampled_from(URLS if kind == "url" else TAGS))
        trail = draw(st.sampled_from(["", ".", ",", "!", "?"]))
        parts.append(mark + trail)
        marks.append(mark)
    return " ".join(parts), marks


@settings(max_examples=200, deadline=None)
@given(marked_text())
def test_facet_byte_ranges_slice_exactly_their_link_or_tag(case: tuple[str, list[str]]) -> None:
    text, marks = case
    facets = bluesky_facets(text)
    assert [_slice(text, f) for f in facets] == marks
    for facet in facets:
        feature = facet["features"][0]
        if feature["$type"] == LINK:
            assert feature["uri"] == _slice(text, facet)
        else:
            assert feature["$type"] == TAG
            assert "#" + feature["tag"] == _slice(text, facet)


@pytest.mark.parametrize(
    ("text", "feature", "covered"),
    [
        ("Notes on #writing.", {"$type": TAG, "tag": "writing"}, "#writing"),
        # A bare domain is linked only with a real top-level domain, and with https://.
        (
            "I host on example.com, not config.yaml.",
            {"$type": LINK, "uri": "https://example.com"},
            "example.com",
        ),
        # A cashtag is a tag of the upper-cased ticker; longer ones and numbers are not.
        ("Bought $aapl, not $TOOLONG or $5.", {"$type": TAG, "tag": "$AAPL"}, "$aapl"),
    ],
)
def test_the_one_facet_covers_exactly_its_mark(text: str, feature: dict, covered: str) -> None:
    (facet,) = bluesky_facets(text)
    assert facet["features"] == [feature]
    assert _slice(text, facet) == covered


def test_numbers_and_mid_word_hashes_are_not_tags() -> None:
    assert bluesky_facets("issue #123 and C#sharp and page#anchor") == []


def test_fragment_of_a_url_is_not_a_tag() -> None:
    text = "see https://example.com/#section now"
    facets = bluesky_facets(text)
    assert [f["features"][0]["$type"] for f in facets] == [LINK]
    assert facets[0]["features"][0]["uri"] == "https://example.com/#section"


def test_tags_longer_than_64_graphemes_are_left_as_text() -> None:
    assert bluesky_facets("#" + "a" * 65) == []
    assert len(bluesky_facets("#" + "a" * 64)) == 1


def test_byte_offsets_count_utf8_bytes_not_characters() -> None:
    text = "😀 https://example.com"
    (facet,) = bluesky_facets(text)
    assert facet["index"]["byteStart"] == len("😀 ".encode())
    assert facet["index"]["byteStart"] != text.index("https")


def test_one_trailing_punctuation_mark_and_an_unbalanced_paren_stay_outside_a_link() -> None:
    text = "(see https://example.com/a) or https://w.org/X_(y)). Really https://x.org/p!?"
    uris = [f["features"][0]["uri"] for f in bluesky_facets(text)]
    # As the Bluesky app does: one mark is cut, then ")" when the link holds no "(".
    assert uris == ["https://example.com/a", "https://w.org/X_(y))", "https://x.org/p!"]


def test_a_keycap_emoji_is_never_a_tag() -> None:
    assert bluesky_facets("#️⃣ and #⃣ and ＃️⃣ are keycaps") == []


def test_zero_width_characters_end_a_tag() -> None:
    (facet,) = bluesky_facets("#tag\u200bmore")
    assert facet["features"][0]["tag"] == "tag"


# ---------------------------------------------------------------- against the Bluesky app


RICH_PIECES = [
    "word",
    "Why?",
    "日本語の文",
    "😀",
    "👨‍👩‍👧‍👦",
    "Привет",
    "(",
    ")",
    ".",
    ",",
    "!",
    "?",
    ":",
    "'",
    '"',
    "https://example.com",
    "https://en.wikipedia.org/wiki/Essay_(genre)",
    "https://example.com/a?b=1&c=(2)",
    "http://test.co/x",
    "HTTPS://EXAMPLE.COM",
    "https://例え.jp/パス",
    "example.com",
    "www.example.org/page",
    "config.yaml",
    "setup.py",
    "e.g.",
    "node.js",
    "a.b.c",
    "#writing",
    "#IndieWeb",
    "#日本語",
    "#1",
    "#1st",
    "#️⃣",
    "#⃣",
    "＃全角",
    "#a.b",
    "#tag\u200dx",
    "#" + "long" * 20,
    "$AAPL",
    "$abc",
    "$TOOLONG",
    "$5",
    "@alice.bsky.social",
    "me@example.com",
]
SEPARATORS = [" ", " ", "", "\n", "\u3000", "\u00a0", "\u200b"]


@st.composite
def rich_text(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.sampled_from(RICH_PIECES), max_size=16))
    text = ""
    for part in parts:
        text += draw(st.sampled_from(SEPARATORS)) + part
    return text


@settings(max_examples=400, deadline=None)
@given(rich_text())
def test_facets_are_what_the_bluesky_app_detects(text: str) -> None:
    app = platform_references().bluesky_facets(text)
    assert bluesky_facets(text) == as_we_mean_to_differ(text, app)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_every_hashtag_we_make_is_one_whole_tag_for_the_bluesky_app(tag: str) -> None:
    made = hashtag(tag)
    if made is None:
        return
    text = f"Notes {made} end"
    facets = platform_references().bluesky_facets(text)
    assert [f["features"] for f in facets] == [[{"$type": TAG, "tag": made[1:]}]]
    assert bluesky_facets(text) == facets
