"""Telegram HTML: only the Bot API's tags, escaped text, and the length Telegram counts."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
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
    Run,
    Table,
    TableCell,
)
from pipeline.render.parts import blocks_for
from pipeline.render.telegram import render_telegram_html, telegram_text_length
from tests.essay_strategies import essay_words, keeps_in_order, label_tokens, nested_essays, para
from tests.test_render_golden import ESSAYS, load_essay

# The subset we emit; all are in the Bot API's list (platforms.md §11).
ALLOWED = {
    "b": set(),
    "i": set(),
    "s": set(),
    "code": {"class"},
    "pre": set(),
    "a": {"href"},
    "blockquote": set(),
}


class TagChecker(HTMLParser):
    """Collects every tag and checks nesting against Telegram's rules."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "code" and self.open[-1:] == ["pre"]:
            pass  # <pre><code class="language-x"> is the one allowed nesting of code
        else:
            inside_code = any(t in ("code", "pre") for t in self.open)
            in_entity = tag in ("code", "pre") and any(t != "blockquote" for t in self.open)
            if inside_code or in_entity:
                self.problems.append(f"<{tag}> inside {self.open}")
        if tag == "blockquote" and "blockquote" in self.open:
            self.problems.append("nested blockquote")
        if tag == "a" and "a" in self.open:
            self.problems.append("link inside a link")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"unbalanced </{tag}>")
        else:
            self.open.pop()


def check(markup: str) -> TagChecker:
    checker = TagChecker()
    checker.feed(markup)
    checker.close()
    return checker


HOSTILE = [
    Heading(content=[Run(text="<script>alert(1)</script>", marks=("strong",))]),
    Paragraph(
        content=[
            Run(text="x", href="javascript:alert(1)"),
            Run(text="rel", href="/relative/path"),
            Run(text="q", href='https://e.x/?a="><b>'),
            Run(text="bold code", marks=("strong", "code")),
            Run(text="linked code", marks=("code", "em"), href="https://e.x/c"),
        ]
    ),
    Image(src="javascript:alert(1)", alt="<b>"),
    Code(language='x"><script>', text="<b>&</b>"),
    Quote(paragraphs=[[Run(text="q", marks=("code",))]]),
]


@pytest.mark.parametrize("name", ESSAYS)
def test_golden_essays_use_only_telegram_tags(name: str) -> None:
    checker = check(render_telegram_html(blocks_for(load_essay(name), "blog")))
    assert checker.problems == []
    for tag, attrs in checker.tags:
        assert tag in ALLOWED and set(attrs) <= ALLOWED[tag]


def test_hostile_input_yields_no_script_and_no_unsafe_link() -> None:
    markup = render_telegram_html(HOSTILE)
    checker = check(markup)
    assert checker.problems == []
    for tag, attrs in checker.tags:
        assert tag in ALLOWED and set(attrs) <= ALLOWED[tag]
        if tag == "a":
            assert (attrs["href"] or "").startswith("https://")
        if tag == "code" and "class" in attrs:
            assert attrs["class"] == "language-x"
    assert "<script" not in markup and "&lt;script&gt;" in markup
    assert "x" in markup and "rel" in markup  # unlinked text is kept


def test_structure_is_written_with_newlines() -> None:
    markup = render_telegram_html(
        [
            Heading(content=[Run(text="Title")]),
            Paragraph(content=[Run(text="One & two")]),
            ListBlock(
                items=[
                    ListItem(
                        content=[Run(text="a")],
                        children=[
                            ListBlock(
                                ordered=True, start=2, items=[ListItem(content=[Run(text="b")])]
                            )
                        ],
                    )
                ]
            ),
            Image(src="https://e.x/i.png", alt="A cat"),
        ]
    )
    assert markup == (
        "<b>Title</b>\n\nOne &amp; two\n\n• a\n  2. b\n\n"
        '<a href="https://e.x/i.png">[image: A cat]</a>'
    )


def test_length_counts_visible_characters_after_entity_parsing() -> None:
    markup = render_telegram_html(
        [Paragraph(content=[Run(text="a<b & ", marks=("strong",)), Run(text="日本😀")])]
    )
    assert telegram_text_length(markup) == len("a<b & 日本😀") == 9


def test_length_of_a_link_is_its_text_only() -> None:
    assert telegram_text_length('<a href="https://example.com/very/long">hi</a>') == 2


def test_nested_blocks_keep_their_layout_and_code_keeps_its_own_lines() -> None:
    markup = render_telegram_html(
        [
            ListBlock(
                ordered=True,
                start=0,
                items=[
                    ListItem(
                        blocks=[para(Run(text="Install:")), Code(language="sh", text="pip x\n")]
                    ),
                    ListItem(
                        checked=False,
                        blocks=[
                            para(Run(text="Said:")),
                            Quote(
                                blocks=[
                                    para(Run(text="outer")),
                                    Quote(blocks=[para(Run(text="inner"))]),
                                ]
                            ),
                            ListBlock(
                                items=[ListItem(blocks=[para(Run(text="deep", marks=("strong",)))])]
                            ),
                        ],
                    ),
                ],
            )
        ]
    )
    assert markup == (
        '0. Install:\n<pre><code class="language-sh">pip x</code></pre>\n'
        "1. ☐ Said:\n     <blockquote>outer\n\n     &gt; inner</blockquote>\n"
        "     • <b>deep</b>"
    )
    assert check(markup).problems == []


def test_strike_is_s_and_sub_or_superscript_is_plain_text() -> None:
    markup = render_telegram_html(
        [
            para(
                Run(text="old", marks=("strike",)),
                Run(text=" H"),
                Run(text="2", marks=("sub",)),
                Run(text="O x"),
                Run(text="2", marks=("sup", "em")),
            )
        ]
    )
    assert markup == "<s>old</s> H2O x<i>2</i>"


def test_footnotes_are_numbered_markers_with_the_notes_at_the_end() -> None:
    markup = render_telegram_html(
        [para(Run(text="It took a year"), NoteRef(label="y"), Run(text=" & more."))],
        [Footnote(label="y", blocks=[para(Run(text="Or "), Run(text="two", marks=("em",)))])],
    )
    assert markup == "It took a year[1] &amp; more.\n\n[1] Or <i>two</i>"


def test_a_table_is_rows_of_named_cells_never_pipes() -> None:
    def cell(text: str) -> TableCell:
        return TableCell(content=[Run(text=text)])

    markup = render_telegram_html(
        [Table(header=[cell("Year"), cell("Riders")], rows=[[cell("2019"), cell("3<4")]])]
    )
    assert markup == "• <b>Year</b>: 2019 · <b>Riders</b>: 3&lt;4"


def test_breaks_become_newlines_and_inline_images_links_to_the_image() -> None:
    markup = render_telegram_html(
        [
            para(
                Run(text="one"),
                LineBreak(),
                Run(text="two "),
                InlineImage(src="https://e.x/b.png", alt="badge"),
                InlineImage(src="https://e.x/c.png", alt="ci", href="https://ci.e.x"),
            )
        ]
    )
    assert markup == (
        'one\ntwo <a href="https://e.x/b.png">[image: badge]</a> '
        '<a href="https://ci.e.x">[image: ci]</a>'
    )


def _visible(markup: str) -> str:
    """The text a reader sees, by a rule of our own: tags cut out, entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", "", markup))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nested_essays)
def test_any_nested_essay_gives_valid_telegram_html_that_keeps_every_word(essay: Essay) -> None:
    markup = render_telegram_html(essay.blocks, essay.footnotes)
    checker = check(markup)
    assert checker.problems == [] and checker.open == []
    for tag, attrs in checker.tags:
        assert tag in ALLOWED and set(attrs) <= ALLOWED[tag]
    visible = _visible(markup)
    assert telegram_text_length(markup) == len(visible)
    assert keeps_in_order(essay_words(essay.blocks, essay.footnotes), label_tokens(visible)) == []
    assert "|" not in visible.replace("x|y", "")
