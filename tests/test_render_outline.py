"""Below a page title, the body's headings start at h2 and never skip a level downwards."""

from __future__ import annotations

from pipeline.document import Heading, Paragraph, Quote, walk
from pipeline.render.outline import nested_headings


def levels(blocks: list) -> list[int]:
    return [b.level for b in walk(blocks) if isinstance(b, Heading)]


def test_a_medium_export_with_h3_sections_nests_below_the_title() -> None:
    blocks = [Heading(level=3), Paragraph(), Heading(level=4), Heading(level=3)]
    assert levels(nested_headings(blocks, top=2)) == [2, 3, 2]


def test_a_skipped_level_becomes_the_next_one_and_quotes_count_too() -> None:
    blocks = [Heading(level=2), Heading(level=5), Quote(blocks=[Heading(level=6)])]
    assert levels(nested_headings(blocks, top=2)) == [2, 3, 4]


def test_the_input_is_left_as_it_was() -> None:
    blocks = [Heading(level=4)]
    nested_headings(blocks, top=2)
    assert levels(blocks) == [4]
