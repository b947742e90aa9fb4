"""Plain text: what a reader would type to keep an essay's structure without markup."""

from __future__ import annotations

from pipeline.document import (
    Code,
    Heading,
    Image,
    ListBlock,
    ListItem,
    Paragraph,
    Quote,
    Rule,
    Run,
)
from pipeline.render.plain import render_plain


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
