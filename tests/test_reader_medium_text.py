"""The Medium-copy / plain-text reader: golden files plus what the corpus README promises."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from pipeline.document import Heading, ListBlock, Paragraph, block_text, plain
from pipeline.errors import ReadError
from pipeline.readers import medium_text
from tests.golden_helpers import check_golden

GOLDEN = Path(__file__).parent / "golden" / "readers"
NORTH_KOREA = GOLDEN / "medium-copy-north-korean-troops.txt"


def read(text: str, name: str = "essay.txt") -> medium_text.Essay:
    return medium_text.read(Path(name), text.encode("utf-8"))


@pytest.fixture(scope="module")
def essay() -> medium_text.Essay:
    return medium_text.read(NORTH_KOREA, NORTH_KOREA.read_bytes())


@pytest.mark.parametrize("source", sorted(GOLDEN.glob("*.txt")), ids=lambda p: p.name)
def test_medium_text_golden(source: Path) -> None:
    essay = medium_text.read(source, source.read_bytes())
    check_golden(essay.model_dump_json(indent=2), source.with_suffix(".essay.json"))


def test_title_author_and_date_come_from_the_medium_byline(essay) -> None:
    assert essay.title == (
        "Russia’s Desperation Unveiled: The Fiasco of North Korean Troops on the Frontlines"
    )
    assert essay.author == "Christian Baghai"
    assert essay.published == date(2025, 1, 31)
    assert essay.subtitle is None


def test_six_numbered_sections_become_headings_with_their_numbers(essay) -> None:
    headings = [plain(b.content) for b in essay.blocks if isinstance(b, Heading)]
    assert len(headings) == 6
    assert [h[:3] for h in headings] == [f"{n}. " for n in range(1, 7)]
    assert headings[0] == "1. A Laughable Display of Desperation"
    assert headings[-1] == "6. A Glimpse of the Endgame"


def test_bullets_are_five_two_item_lists_with_bold_lead_ins(essay) -> None:
    lists = [b for b in essay.blocks if isinstance(b, ListBlock)]
    assert [len(b.items) for b in lists] == [2, 2, 2, 2, 2]
    assert not any(b.ordered for b in lists)
    for item in (item for b in lists for item in b.items):
        lead = item.content[0]
        assert lead.marks == ("strong",) and lead.text.endswith(":")
        assert item.content[1].marks == () and item.content[1].text.startswith(" ")
    assert plain(lists[0].items[0].content).startswith(
        "Scrambling for Warm Bodies: Moscow’s inability"
    )


def test_no_medium_chrome_is_left_in_the_body(essay) -> None:
    body = "\n".join(block_text(b) for b in essay.blocks)
    for chrome in ("min read", "No responses yet", "Listen", "Share", "| Patreon"):
        assert chrome not in body
    assert not any(re.fullmatch(r"-+|\d+", block_text(b).strip()) for b in essay.blocks)
    assert "--" not in body
    assert "Christian Baghai" not in body


def test_lead_paragraph_opens_the_body_and_typography_is_kept(essay) -> None:
    assert essay.lead().startswith("Russia’s latest debacle, withdrawing North Korean troops")
    body = "\n".join(block_text(b) for b in essay.blocks)
    assert "the “great power,”" in body and "desperation — it reveals" in body


def test_promo_is_the_patreon_call_to_action_with_its_link(essay) -> None:
    assert len(essay.promo) == 1
    promo = essay.promo[0]
    assert plain(promo.content).startswith("If you’re enjoying the content on my blog")
    links = [(r.text, r.href) for r in promo.content if r.href]
    assert links == [("patreon.com/ChristianBaghai", "https://www.patreon.com/ChristianBaghai")]
    assert not any("enjoying the content" in block_text(b) for b in essay.blocks)


def test_related_holds_the_author_page_then_every_patreon_post(essay) -> None:
    source = NORTH_KOREA.read_text(encoding="utf-8").splitlines()
    cards = [line.removesuffix(" | Patreon") for line in source if line.endswith(" | Patreon")]
    assert [r.title for r in essay.related] == cards
    assert essay.related[0].title == "Christian Baghai"
    assert len(essay.related) == 29  # the author's page + 28 post titles
    assert all(r.url is None for r in essay.related)


def test_member_only_copy_drops_header_footer_and_other_peoples_responses() -> None:
    source = GOLDEN / "medium-member-only.txt"
    essay = medium_text.read(source, source.read_bytes())
    assert essay.title == "The Quiet Economics of Sleeper Trains"
    assert essay.subtitle == "Why night trains lose money on paper and win it back everywhere else"
    assert essay.author == "Ana Ribeiro"
    assert essay.published == date(2024, 3, 4)
    dumped = essay.model_dump_json()
    for chrome in ("Member-only", "Top highlight", "Nightjet", "Followers", "Recommended", "Teams"):
        assert chrome not in dumped
    ordered = [b for b in essay.blocks if isinstance(b, ListBlock) and b.ordered]
    assert len(ordered) == 1 and ordered[0].start == 1
    assert [plain(i.content).split(":")[0] for i in ordered[0].items] == [
        "Rolling stock",
        "Staff",
        "Track access",
    ]
    assert plain(essay.promo[0].content).startswith("If you enjoyed this, become a member")


def test_date_without_year_is_left_unknown() -> None:
    essay = read("Title\nAuthor Name\n4 min read·Jan 31\n--\nBody text.\n")
    assert essay.author == "Author Name"
    assert essay.published is None
    assert [block_text(b) for b in essay.blocks] == ["Body text."]


@pytest.mark.parametrize(
    "byline", ["6 min readJan 31, 2025", "6 min read·Jan 31, 2025", "6 min read\n·\nJan 31, 2025"]
)
def test_byline_variants_give_the_date(byline: str) -> None:
    essay = read(f"Title\n\nAuthor\n{byline}\n\n--\n\nBody.\n")
    assert (essay.author, essay.published) == ("Author", date(2025, 1, 31))


def test_plain_note_keeps_every_line_and_bolds_nothing() -> None:
    essay = read("A Note\n\nFirst line\nwraps here.\n\nWord: not a label.\n\n12\n")
    assert essay.author is None and essay.source_format == "text"
    assert [b.content for b in essay.blocks if isinstance(b, Paragraph)][1][0].marks == ()
    assert [block_text(b) for b in essay.blocks] == [
        "First line wraps here.",
        "Word: not a label.",
        "12",
    ]


def test_markdown_links_and_bare_urls_become_links_without_trailing_punctuation() -> None:
    essay = read("T\n\nSee [the map](https://x.org/m) or https://x.org/raw.\n")
    runs = essay.blocks[0].content
    assert [(r.text, r.href) for r in runs] == [
        ("See ", None),
        ("the map", "https://x.org/m"),
        (" or ", None),
        ("https://x.org/raw", "https://x.org/raw"),
        (".", None),
    ]


def test_nested_bullets_follow_indentation() -> None:
    essay = read("T\n\n- a\n  - b\n    - c\n- d\n")
    (block,) = essay.blocks
    assert [plain(i.content) for i in block.items] == ["a", "d"]
    assert plain(block.items[0].children[0].items[0].children[0].items[0].content) == "c"


def test_title_only_is_an_error() -> None:
    with pytest.raises(ReadError, match="no body"):
        read("Just a title\n\n")


def test_medium_copy_with_only_chrome_is_an_error() -> None:
    with pytest.raises(ReadError, match="no body"):
        read(
            "Title\nAuthor\n3 min read·Jan 2, 2025\n--\nListen\nShare\n"
            "--\n--\nAuthor\nNo responses yet\n"
        )


MEDIUM_HEAD = "Title\n\nAuthor\n5 min readFeb 2, 2025\n\n--\n\n"


def test_sentence_opening_with_a_colon_is_not_a_label() -> None:
    essay = read(MEDIUM_HEAD + "The outcome: predictable slaughter.\n\nNote: bold again.\n")
    first, second = essay.blocks
    assert [r.marks for r in first.content] == [()]
    assert second.content[0].text == "Note:" and second.content[0].marks == ("strong",)


def test_sentence_case_labels_are_bold_only_when_every_item_has_one() -> None:
    labelled = read(MEDIUM_HEAD + "  • Rolling stock: costly.\n  • Staff: all night.\n")
    assert [i.content[0].text for i in labelled.blocks[0].items] == ["Rolling stock:", "Staff:"]
    mixed = read(MEDIUM_HEAD + "  • Rolling stock: costly.\n  • and nothing else\n")
    assert all(run.marks == () for i in mixed.blocks[0].items for run in i.content)


def test_typed_bold_and_bold_links_in_plain_text_become_marks() -> None:
    essay = read("T\n\n**Bold** then [**bold link**](https://x.org/b) and [bad](javascript:x).\n")
    runs = [(r.text, r.marks, r.href) for r in essay.blocks[0].content]
    assert runs == [
        ("Bold", ("strong",), None),
        (" then ", (), None),
        ("bold link", ("strong",), "https://x.org/b"),
        (" and [bad](javascript:x).", (), None),
    ]


def test_sentences_that_start_like_footer_lines_stay_in_the_essay() -> None:
    essay = read(
        MEDIUM_HEAD + "Written by hand, the letters took weeks.\n\nMore from this later.\n\n"
        "--\n\nAuthor\nWritten by Author\n12 Followers\n\nMore from Author\n"
    )
    assert [block_text(b) for b in essay.blocks] == [
        "Written by hand, the letters took weeks.",
        "More from this later.",
    ]


def test_author_falls_back_to_written_by_in_the_footer() -> None:
    essay = read("Title\n3 min read·Jan 2, 2025\n\nBody.\n\n--\n\n--\n\nWritten by Ana Ribeiro\n")
    assert essay.author == "Ana Ribeiro"


def test_a_plain_note_titled_with_a_number_keeps_it() -> None:
    assert read("1984\n\nA note on the novel.\n").title == "1984"
