"""Bluesky facets point at exactly the bytes of their link or tag."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.render.facets import LINK, TAG, bluesky_facets


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


def test_tag_excludes_trailing_punctuation_and_hash() -> None:
    text = "Notes on #writing."
    (facet,) = bluesky_facets(text)
    assert facet["features"] == [{"$type": TAG, "tag": "writing"}]
    assert _slice(text, facet) == "#writing"


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


def test_bare_domains_are_not_linked() -> None:
    assert bluesky_facets("I host on example.com") == []
