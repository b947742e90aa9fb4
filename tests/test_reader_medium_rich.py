"""Rich Medium copies: the chrome a real copy carries is dropped, the formatting it lost is back.

Each sample is an original essay laid out as a browser copy of a Medium page looks:
"Member-only story", "Published in …", the author line with "·" and "Follow", image
credits, the U+FFFC object character, typed section breaks and numbered question headings.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import pytest

from pipeline.document import Essay, Heading, ListBlock, Paragraph, Rule, Run, block_text
from pipeline.readers import read_file
from tests.golden_helpers import check_golden

GOLDEN = Path(__file__).parent / "golden" / "medium"
INPUTS = sorted(GOLDEN.glob("*.txt"))


@cache
def essay(name: str) -> Essay:
    return read_file(GOLDEN / f"medium-rich-{name}.txt")


def all_text(read: Essay) -> str:
    return "\n".join(block_text(b) for b in [*read.blocks, *read.promo])


def strong_lead(block: Paragraph) -> str:
    first = block.content[0]
    assert isinstance(first, Run)
    return first.text if first.marks == ("strong",) else ""


def test_there_are_at_least_three_rich_medium_copies() -> None:
    assert len(INPUTS) >= 3


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.stem)
def test_rich_medium_copy_matches_golden_essay(path: Path) -> None:
    check_golden(read_file(path).model_dump_json(indent=2), path.with_suffix(".essay.json"))


@pytest.mark.parametrize("name", ["harbour-cranes", "sourdough", "bicycle-commute"])
def test_medium_chrome_never_reaches_the_essay(name: str) -> None:
    text = all_text(essay(name))
    for chrome in ("Member-only story", "Published in", "Follow", "min read", "Listen"):
        assert chrome not in text
    assert "Photo by" not in text and "Image by author" not in text
    assert "\ufffc" not in text and "followers" not in text


def test_header_fields_come_from_around_the_byline() -> None:
    cranes, starter, commute = essay("harbour-cranes"), essay("sourdough"), essay("bicycle-commute")
    assert (cranes.author, cranes.published) == ("Tomas Lindqvist", date(2024, 10, 14))
    assert cranes.subtitle and cranes.subtitle.startswith("Notes from a week")
    assert (starter.author, starter.published) == ("Mira Okafor", date(2025, 6, 2))
    assert (commute.author, commute.published) == ("Sunniva Berg", date(2025, 2, 9))
    assert commute.title.startswith("Eleven Kilometres")


@pytest.mark.parametrize("name", ["harbour-cranes", "sourdough", "bicycle-commute"])
def test_numbered_question_lines_are_level_two_headings(name: str) -> None:
    headings = [b for b in essay(name).blocks if isinstance(b, Heading)]
    assert [block_text(h)[:3] for h in headings] == ["1. ", "2. "]
    assert all(h.level == 2 and block_text(h).endswith("?") for h in headings)
    lists = [b for b in essay(name).blocks if isinstance(b, ListBlock)]
    assert not any(block_text(b).endswith("?") for b in lists)


@pytest.mark.parametrize(
    ("name", "rules"), [("harbour-cranes", 1), ("sourdough", 2), ("bicycle-commute", 1)]
)
def test_typed_section_breaks_are_rules(name: str, rules: int) -> None:
    blocks = essay(name).blocks
    assert sum(isinstance(b, Rule) for b in blocks) == rules
    assert not any(isinstance(b, ListBlock) and "*" in block_text(b) for b in blocks)


def test_label_lead_ins_are_bold_in_sentence_case_and_with_parentheses() -> None:
    cranes = [b for b in essay("harbour-cranes").blocks if isinstance(b, Paragraph)]
    leads = [strong_lead(p) for p in cranes]
    assert "Ship-to-shore cranes (STS):" in leads and "Rubber-tyred gantries:" in leads
    # a short remark is a sentence, not a label
    remark = next(p for p in cranes if block_text(p) == "The outcome: predictable.")
    assert strong_lead(remark) == ""
    starter = [b for b in essay("sourdough").blocks if isinstance(b, Paragraph)]
    assert "Hydration (the water-to-flour ratio):" in [strong_lead(p) for p in starter]
    commute = [b for b in essay("bicycle-commute").blocks if isinstance(b, Paragraph)]
    assert "Rain gear (jacket, overtrousers, overshoes):" in [strong_lead(p) for p in commute]


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("harbour-cranes", "https://harbour.example.org/berths"),
        ("sourdough", "http://www.breadnotes.example.com/starter-care"),
        ("bicycle-commute", "https://ridelog.example.org/sunniva"),
    ],
)
def test_bare_urls_are_links_without_the_punctuation_after_them(name: str, url: str) -> None:
    links = [
        node
        for b in essay(name).blocks
        if isinstance(b, Paragraph)
        for node in b.content
        if node.href
    ]
    linked = [node for node in links if node.href == url]
    assert linked, links
    assert linked[0].text in {url, url.removeprefix("http://")}


def test_the_object_character_inside_a_sentence_leaves_the_words_joined() -> None:
    first = essay("bicycle-commute").blocks[0]
    assert block_text(first).startswith("I started because the train was late")
    assert "week. I kept going" in block_text(first)


def test_nested_bullets_and_numbered_steps_keep_their_shape() -> None:
    cranes = next(b for b in essay("harbour-cranes").blocks if isinstance(b, ListBlock))
    assert not cranes.ordered and len(cranes.items) == 3
    nested = cranes.items[1].children
    assert (
        len(nested) == 1 and block_text(nested[0]) == "Drivers are paid by the trip, not the hour."
    )
    steps = next(b for b in essay("sourdough").blocks if isinstance(b, ListBlock))
    assert steps.ordered and steps.start == 1 and len(steps.items) == 3
