"""The feed reader: each RSS/Atom entry becomes an essay without Medium's chrome."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

import pytest

from pipeline.document import Code, Heading, Image, ListBlock, Quote, block_text, plain
from pipeline.errors import ReadError
from pipeline.readers.feed import FeedEntry, read_feed
from pipeline.readers.hygiene import clean_href
from tests.golden_helpers import check_golden

GOLDEN = Path(__file__).parent / "golden" / "feed"
INPUTS = sorted(GOLDEN.glob("*.xml"))


@cache  # parsed once per run; tests only read the entries
def entries(name: str) -> list[FeedEntry]:
    return read_feed((GOLDEN / name).read_bytes())


def body_text(entry: FeedEntry) -> str:
    return "\n".join(block_text(b) for b in entry.essay.blocks)


def rss(items: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        f"<link>https://blog.example/</link>{items}</channel></rss>"
    ).encode()


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.stem)
def test_feed_matches_golden_entries(path: Path) -> None:
    dumped = [entry.model_dump(mode="json") for entry in read_feed(path.read_bytes())]
    actual = json.dumps(dumped, indent=2, ensure_ascii=False)
    check_golden(actual, path.with_suffix(".entries.json"))


# Medium's own feed (corpus)


def test_medium_feed_entries_keep_guid_title_author_and_tags() -> None:
    feed = entries("medium-feed.xml")
    assert len(feed) == 2
    assert [e.guid for e in feed] == [
        "https://medium.com/p/0a1b2c3d4e5f",
        "https://medium.com/p/9f8e7d6c5b4a",
    ]
    first = feed[0].essay
    assert first.title == "Night Trains Are Back, and They Are Not Nostalgia"
    assert first.author == "Jonas Weber"
    assert first.tags == ["travel", "trains", "europe"]
    assert first.published == date(2025, 1, 12)
    assert feed[0].updated == datetime(2025, 1, 12, 7, 45, tzinfo=UTC)
    assert first.source_format == "feed"


def test_medium_feed_canonical_url_has_no_tracking_query() -> None:
    urls = [e.essay.canonical_url for e in entries("medium-feed.xml")]
    assert urls == [
        "https://medium.com/@railnotes/night-trains-are-back-0a1b2c3d4e5f",
        "https://medium.com/@railnotes/the-timetable-is-a-promise-9f8e7d6c5b4a",
    ]


def test_medium_feed_drops_tracking_pixel_and_keeps_real_figure() -> None:
    for entry in entries("medium-feed.xml"):
        assert all("/_/stat" not in image.src for image in entry.essay.images())
        assert "_/stat" not in entry.model_dump_json()
    figure = entries("medium-feed.xml")[0].essay.images()
    assert [(i.src, i.caption) for i in figure] == [
        (
            "https://cdn-images-1.medium.com/max/1024/1*Zy9xWvU8tS7rQ6pO5nM4lK.jpeg",
            "The Vienna–Hamburg sleeper at dawn.",
        )
    ]


def test_medium_feed_title_and_subtitle_are_not_repeated_in_the_body() -> None:
    essay = entries("medium-feed.xml")[0].essay
    assert essay.subtitle == (
        "A sleeper berth is the cheapest hotel room in Europe, if you count properly"
    )
    body = body_text(entries("medium-feed.xml")[0])
    assert essay.title not in body and essay.subtitle not in body
    headings = [(b.level, plain(b.content)) for b in essay.blocks if isinstance(b, Heading)]
    assert headings == [(2, "1. Count the Hotel Night")]  # Medium's h3, as in the export


def test_medium_feed_list_and_quote_survive() -> None:
    first, second = entries("medium-feed.xml")
    listing = next(b for b in first.essay.blocks if isinstance(b, ListBlock))
    assert [i.content[0].text for i in listing.items] == ["Door to door:", "Sleep included:"]
    quote = next(b for b in second.essay.blocks if isinstance(b, Quote))
    assert block_text(quote) == "Punctuality is the politeness of railways."


def test_medium_feed_patreon_paragraphs_are_promo() -> None:
    for entry in entries("medium-feed.xml"):
        links = [r.href for b in entry.essay.promo for r in b.content if r.href]
        assert links == ["https://www.patreon.com/railnotes"]
        assert "Patreon" not in body_text(entry)


# Medium publication feed: trailer, code, member-only teaser


def test_publication_trailer_and_its_rule_are_dropped() -> None:
    entry = entries("medium-publication-feed.xml")[0]
    dumped = entry.model_dump_json()
    assert "originally published" not in dumped
    assert entry.essay.blocks[-1].type != "rule"
    code = next(b for b in entry.essay.blocks if isinstance(b, Code))
    assert code.text == "revenue = berths * fare\ncost    = crew + path + cleaning"
    assert [block_text(b) for b in entry.essay.promo] == [
        "Subscribe to the Rail Review newsletter for the numbers."
    ]


def test_member_only_teaser_becomes_a_short_essay_without_continue_link() -> None:
    entry = entries("medium-publication-feed.xml")[1]
    assert entry.guid == "https://medium.com/p/4d5e6f7a8b9c"
    assert entry.updated is None  # the item has no atom:updated; published is not a change
    assert entry.essay.published == date(2025, 3, 1)
    assert [b.type for b in entry.essay.blocks] == ["image", "paragraph"]
    image = entry.essay.blocks[0]
    assert isinstance(image, Image)
    assert image.src == "https://cdn-images-1.medium.com/max/600/1*FareTable.png"
    assert block_text(entry.essay.blocks[1]) == (
        "Every fare on the night network, compared line by line."
    )
    assert "Continue reading" not in entry.model_dump_json()


# Atom


def test_atom_entries_read_like_rss() -> None:
    feed = entries("blog-atom.xml")
    assert len(feed) == 2
    first = feed[0]
    assert first.guid == "tag:railnotes.example,2024-11-20:/sleeping-cars-ranked"
    assert first.essay.title == "Sleeping Cars, Ranked"
    assert first.essay.author == "Mira Okafor"
    assert first.essay.tags == ["trains", "reviews"]
    assert first.essay.published == date(2024, 11, 20)
    assert first.updated == datetime(2024, 12, 1, 10, 0, tzinfo=UTC)
    assert first.essay.canonical_url == "https://railnotes.example/sleeping-cars-ranked/?lang=en"
    code = next(b for b in first.essay.blocks if isinstance(b, Code))
    assert code.language == "text"
    quiet = next(b for b in first.essay.blocks if isinstance(b, ListBlock)).items[1]
    assert [plain(i.content) for i in quiet.children[0].items] == ["at night", "at stations"]
    assert [block_text(b) for b in first.essay.promo] == ["Support my writing on Ko-fi."]


def test_atom_xhtml_content_is_read() -> None:
    second = entries("blog-atom.xml")[1]
    assert body_text(second) == "Platform numbers are promises too.\nStand behind the yellow line."


# Edge cases


def test_description_only_item_becomes_essay_from_description() -> None:
    feed = read_feed(
        rss(
            "<item><title>Teaser</title><link>https://blog.example/t</link>"
            "<guid>https://blog.example/t</guid>"
            "<description>&lt;p&gt;Only the &lt;b&gt;opening&lt;/b&gt;.&lt;/p&gt;</description>"
            "</item>"
        )
    )
    assert len(feed) == 1
    assert feed[0].guid == "https://blog.example/t"
    assert body_text(feed[0]) == "Only the opening."


def test_plain_text_description_becomes_paragraphs() -> None:
    feed = read_feed(rss("<item><title>T</title><description>One line.</description></item>"))
    assert body_text(feed[0]) == "One line."


def test_feed_scripts_and_unsafe_links_do_not_survive() -> None:
    content = (
        "&lt;p&gt;Hi &lt;a href='javascript:alert(1)'&gt;there&lt;/a&gt;&lt;/p&gt;"
        "&lt;script&gt;alert(2)&lt;/script&gt;&lt;iframe src='https://x.example'&gt;&lt;/iframe&gt;"
    )
    feed = read_feed(rss(f"<item><title>T</title><description>{content}</description></item>"))
    dumped = feed[0].model_dump_json().lower()
    assert body_text(feed[0]) == "Hi there"
    for word in ("script", "javascript:", "iframe", "alert"):
        assert word not in dumped


def test_malformed_feed_without_entries_is_a_read_error() -> None:
    with pytest.raises(ReadError, match="not a readable RSS/Atom feed"):
        read_feed(b"<rss><channel><title>broken &nope; <<</channel")


def test_bytes_that_name_a_local_file_are_not_opened(tmp_path: Path) -> None:
    feed_file = tmp_path / "feed.xml"
    feed_file.write_bytes((GOLDEN / "medium-feed.xml").read_bytes())
    with pytest.raises(ReadError):  # the bytes are a path, not a feed: nothing to read
        read_feed(str(feed_file).encode())


def test_valid_feed_without_items_is_empty() -> None:
    assert read_feed(rss("")) == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://medium.com/@u/post-1a2b?source=rss-4f3e------2",
            "https://medium.com/@u/post-1a2b",
        ),
        ("https://blog.example/p?utm_source=rss&id=7", "https://blog.example/p?id=7"),
        ("https://blog.example/p?source=newsletter", "https://blog.example/p?source=newsletter"),
        ("javascript:alert(1)", None),
    ],
)
def test_strip_tracking_removes_only_tracking_parameters(url: str, expected: str | None) -> None:
    assert clean_href(url) == expected
