"""Plain text: what a reader would type to keep an essay's structure without markup."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from pipeline.document import (
    Code,
    Essay,
    Footnote,
    Heading,
    Image,
    InlineImage,
    LineBreak,
    ListBlock,
    ListItem,
    NoteRef,
    Paragraph,
    Quote,
    Rule,
    Run,
    Table,
    TableCell,
)
from pipeline.render.plain import render_plain
from tests.essay_strategies import essay_words, keeps_in_order, label_tokens, nested_essays, para


def test_structure_survives_as_text() -> None:
    text = render_plain(
        [
            Heading(content=[Run(text="Title", marks=("strong",))]),
            Paragraph(
                content=[Run(text="First "), Run(text="paragraph", marks=("em",)), Run(text=".")]
            ),
            ListBlock(
                items=[
                    ListItem(
                        content=[Run(text="bullet")],
                        children=[
                            ListBlock(
                                ordered=True,
                                start=1,
                                items=[
                                    ListItem(content=[Run(text="one")]),
                                    ListItem(content=[Run(text="two")]),
                                ],
                            )
                        ],
                    )
                ]
            ),
            Quote(paragraphs=[[Run(text="quoted\nsecond line")], [Run(text="again")]]),
            Code(text="x = 1\n"),
            Rule(),
            Image(src="https://e.x/i.png", alt="A cat", caption="Our cat"),
            Image(src="https://e.x/j.png"),
        ]
    )
    assert text == (
        "Title\n\nFirst paragraph.\n\n• bullet\n  1. one\n  2. two\n\n"
        "> quoted\n> second line\n>\n> again\n\nx = 1\n\n* * *\n\n"
        "[image: A cat]\nOur cat\n\n[image]"
    )


def test_links_show_url_only_when_it_adds_something() -> None:
    text = render_plain(
        [
            Paragraph(
                content=[
                    Run(text="docs", href="https://e.x/docs"),
                    Run(text=" "),
                    Run(text="https://e.x", href="https://e.x"),
                    Run(text=" "),
                    Run(text="me@e.x", href="mailto:me@e.x"),
                    Run(text=" "),
                    Run(text="bad", href="javascript:alert(1)"),
                ]
            )
        ]
    )
    assert text == "docs (https://e.x/docs) https://e.x me@e.x bad"


def _cell(text: str) -> TableCell:
    return TableCell(content=[Run(text=text)] if text else [])


def test_blocks_inside_an_item_are_indented_under_it() -> None:
    text = render_plain(
        [
            ListBlock(
                ordered=True,
                start=0,
                items=[
                    ListItem(
                        blocks=[para(Run(text="Install:")), Code(text="pip install x\nx -h\n")]
                    ),
                    ListItem(
                        blocks=[
                            para(Run(text="Then")),
                            Quote(
                                blocks=[
                                    para(Run(text="said")),
                                    Quote(blocks=[para(Run(text="deep"))]),
                                ]
                            ),
                            ListBlock(items=[ListItem(blocks=[para(Run(text="nested"))])]),
                            para(Run(text="second paragraph")),
                        ]
                    ),
                    ListItem(blocks=[Code(text="first is code")]),
                ],
            )
        ]
    )
    assert text == (
        "0. Install:\n   pip install x\n   x -h\n"
        "1. Then\n   > said\n   >\n   > > deep\n   • nested\n   second paragraph\n"
        "2. first is code"
    )


def test_quotes_nest_with_one_marker_per_level_and_hold_any_block() -> None:
    text = render_plain(
        [
            Quote(
                blocks=[
                    Heading(content=[Run(text="Head")]),
                    ListBlock(items=[ListItem(blocks=[para(Run(text="point"))])]),
                    Quote(blocks=[para(Run(text="inner"))]),
                ]
            )
        ]
    )
    assert text == "> Head\n>\n> • point\n>\n> > inner"


def test_task_items_show_their_state() -> None:
    text = render_plain(
        [
            ListBlock(
                items=[
                    ListItem(checked=True, blocks=[para(Run(text="done"))]),
                    ListItem(checked=False, blocks=[para(Run(text="open"))]),
                    ListItem(blocks=[para(Run(text="plain"))]),
                ]
            )
        ]
    )
    assert text == "• ☑ done\n• ☐ open\n• plain"


def test_note_references_are_numbered_and_the_notes_follow_the_text() -> None:
    text = render_plain(
        [
            para(
                Run(text="It took a year"),
                NoteRef(label="y"),
                Run(text=" and a day"),
                NoteRef(label="d"),
            )
        ],
        [
            Footnote(label="y", blocks=[para(Run(text="Or so."))]),
            Footnote(
                label="d",
                blocks=[
                    para(Run(text="Two lines")),
                    ListBlock(items=[ListItem(content=[Run(text="src")])]),
                ],
            ),
        ],
    )
    assert text == "It took a year[1] and a day[2]\n\n[1] Or so.\n[2] Two lines\n    • src"
    assert "year1" not in text


def test_a_note_marker_never_touches_the_next_word() -> None:
    text = render_plain(
        [para(Run(text="year"), NoteRef(label="1"), Run(text="later"))], [Footnote(label="1")]
    )
    assert text.split("\n")[0] == "year[1] later"


def test_a_table_is_one_line_per_row_naming_its_columns_never_pipes() -> None:
    table = Table(
        header=[_cell("Year"), _cell("Riders"), _cell("")],
        rows=[
            [_cell("2019"), _cell("3,000"), _cell("night")],
            [_cell("2020"), _cell(""), _cell("")],
        ],
    )
    text = render_plain([table])
    assert text == "• Year: 2019 · Riders: 3,000 · night\n• Year: 2020"
    assert "|" not in text
    assert render_plain([Table(header=[_cell("A"), _cell("B")])]) == "• A · B"
    assert render_plain([Table(rows=[[_cell("x"), _cell("y")]])]) == "• x · y"


def test_breaks_images_and_struck_or_raised_text_read_as_text() -> None:
    text = render_plain(
        [
            para(
                Run(text="H"),
                Run(text="2", marks=("sub",)),
                Run(text="O is "),
                Run(text="wet", marks=("strike",)),
                LineBreak(),
                Run(text="see"),
                InlineImage(src="https://e.x/b.png", alt="the badge", href="https://ci.e.x"),
                Run(text="here"),
            ),
            Image(src="https://e.x/i.png", alt="A map", href="https://e.x/big"),
        ]
    )
    assert text == "H2O is wet\nsee [image: the badge] (https://ci.e.x) here\n\n[image: A map]"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nested_essays)
def test_plain_text_of_any_nested_essay_keeps_every_word_in_order(essay: Essay) -> None:
    text = render_plain(essay.blocks, essay.footnotes)
    assert keeps_in_order(essay_words(essay.blocks, essay.footnotes), label_tokens(text)) == []
