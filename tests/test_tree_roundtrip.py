"""Random nested essays survive every trip they take: JSON, HTML and back, Markdown and back.

The trees are drawn in the shape readers produce (text without blank edges, a space
between differently marked words, code without a trailing newline, footnotes in order of
first reference), nested to a few levels: lists in quotes in list items, code in items,
tables, inline and linked images, breaks, every mark.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.document import (
    Block,
    Code,
    Essay,
    Footnote,
    Heading,
    Image,
    InlineImage,
    InlineNode,
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
    merge_runs,
)
from pipeline.readers import html as html_reader
from pipeline.readers import markdown as markdown_reader
from pipeline.render.html import render_html
from pipeline.render.markdown import render_markdown

WORDS = st.sampled_from(
    ["night", "train", "Vienna", "sleeper", "berth", "ticket", "42", "café", "東京", "😀"]
)
PUNCTUATED = st.sampled_from(["a*b", "snake_case", "[x]", "#1", "<tag>", "a & b", "1.", "~x~"])
MARKS = st.sampled_from(
    [(), (), ("strong",), ("em",), ("strong", "em"), ("code",), ("strike",), ("sub",), ("sup",)]
)
HREFS = st.sampled_from([None, None, "https://example.org/a", "https://example.org/b_(c)"])
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def inline(draw: st.DrawFn, *, breaks: bool = True, images: bool = True) -> list[InlineNode]:
    """Words with marks and links, a space (or a break) between them, at least one word."""
    nodes: list[InlineNode] = []
    for index in range(draw(st.integers(1, 5))):
        if index:
            kind = draw(st.sampled_from(["space", "space", "break"] if breaks else ["space"]))
            nodes.append(LineBreak() if kind == "break" else Run(text=" "))
        href = draw(HREFS)
        if images and draw(st.integers(0, 6)) == 0:
            nodes.append(InlineImage(src="https://example.org/i.png", alt=draw(WORDS), href=href))
            continue
        words = draw(st.lists(st.one_of(WORDS, PUNCTUATED), min_size=1, max_size=3))
        nodes.append(Run(text=" ".join(words), marks=draw(MARKS), href=href))
    if not any(isinstance(n, Run) and n.text.strip() for n in nodes):
        nodes.append(Run(text=" "))
        nodes.append(Run(text=draw(WORDS)))
    return merge_runs(nodes)


CODE = st.builds(
    Code,
    language=st.sampled_from([None, "python", "c++"]),
    text=st.lists(
        st.sampled_from(["x = 1", "  indented", "```", "<b>&amp;</b>", "", "# not a heading"]),
        min_size=1,
        max_size=4,
    )
    .map("\n".join)
    .filter(lambda t: t.strip() and t == t.strip("\n")),
)


def table(*, header_required: bool) -> st.SearchStrategy[Table]:
    @st.composite
    def build(draw: st.DrawFn) -> Table:
        width = draw(st.integers(1, 3))
        cell = st.builds(TableCell, content=inline(breaks=False))
        header = draw(st.lists(cell, min_size=width, max_size=width))
        if not header_required and draw(st.booleans()):
            header = []
        rows = draw(
            st.lists(
                st.lists(cell, min_size=width, max_size=width), min_size=not header, max_size=3
            )
        )
        align = draw(
            st.lists(
                st.sampled_from([None, "left", "center", "right"]), min_size=width, max_size=width
            )
        )
        return Table(header=header, rows=rows, align=align)

    return build()


def blocks(depth: int, *, markdown: bool) -> st.SearchStrategy[list[Block]]:
    """Block lists nested `depth` levels deep."""
    paragraph = st.builds(Paragraph, content=inline())
    leaf = st.one_of(
        paragraph,
        paragraph,
        st.builds(Heading, level=st.integers(2, 6), content=inline(breaks=False)),
        CODE,
        st.just(Rule()),
        st.builds(
            Image,
            src=st.just("https://example.org/photo.jpg"),
            alt=WORDS,
            caption=st.sampled_from(["", "At dawn"]),
            title=st.just("") if markdown else st.sampled_from(["", "A title"]),
            href=st.sampled_from([None, "https://example.org/full"]),
            width=st.just(None) if markdown else st.sampled_from([None, 640]),
        ),
        table(header_required=markdown),
    )
    if depth == 0:
        return st.lists(leaf, min_size=1, max_size=3)
    inner = blocks(depth - 1, markdown=markdown)
    return st.lists(
        st.one_of(leaf, lists(depth - 1, markdown), st.builds(Quote, blocks=inner)),
        min_size=1,
        max_size=3,
    )


def lists(depth: int, markdown: bool, *, after_line: bool = False) -> st.SearchStrategy[ListBlock]:
    """Lists; `after_line` for one right under an item's line in a tight list, which
    CommonMark lets start there only when it starts at 1 (else the list turns loose)."""

    @st.composite
    def build(draw: st.DrawFn) -> ListBlock:
        ordered = draw(st.booleans())
        start = draw(st.integers(0, 12)) if ordered and not after_line else 1
        if draw(st.booleans()):  # tight: a line each, perhaps with a list inside
            items = []
            for _ in range(draw(st.integers(1, 3))):
                item_blocks: list[Block] = [Paragraph(content=draw(inline()))]
                if depth and draw(st.booleans()):
                    item_blocks.append(draw(lists(depth - 1, markdown, after_line=markdown)))
                checked = draw(st.sampled_from([None, None, True, False]))
                items.append(ListItem(blocks=item_blocks, checked=checked))
            return ListBlock(ordered=ordered, start=start, tight=True, items=items)
        inner = blocks(depth, markdown=markdown) if depth else blocks(0, markdown=markdown)
        items = [
            ListItem(blocks=[Paragraph(content=draw(inline())), *draw(inner)])
            for _ in range(draw(st.integers(1, 3)))
        ]
        return ListBlock(ordered=ordered, start=start, tight=False, items=items)

    return build()


@st.composite
def essays(draw: st.DrawFn, *, markdown: bool) -> Essay:
    body = draw(blocks(2, markdown=markdown))
    # the body ends in a paragraph (a reader trims a closing rule) that cites the notes
    labels = draw(st.lists(st.sampled_from(["1", "2", "note"]), unique=True, max_size=2))
    closing: list[InlineNode] = [Run(text="The end")]
    for label in labels:
        closing.append(NoteRef(label=label))
        closing.append(Run(text=" and"))
    closing.append(Run(text=" more."))
    notes = [Footnote(label=label, blocks=draw(blocks(0, markdown=markdown))) for label in labels]
    while body and isinstance(body[0], Rule):
        body = body[1:]
    return Essay(
        title="A random essay",
        blocks=[*body, Paragraph(content=merge_runs(closing))],
        footnotes=notes,
    )


@SETTINGS
@given(essays(markdown=False))
def test_a_nested_essay_survives_its_json(essay: Essay) -> None:
    assert Essay.model_validate_json(essay.model_dump_json()) == essay


@SETTINGS
@given(essays(markdown=False))
def test_html_rendered_reads_back_as_the_same_tree(essay: Essay) -> None:
    body = render_html(essay.blocks, essay.footnotes)
    page = f"<html><body><article><h1>{essay.title}</h1>\n{body}</article></body></html>"
    again = html_reader.read(Path("essay.html"), page.encode())
    assert (again.blocks, again.footnotes) == (essay.blocks, essay.footnotes), body


@SETTINGS
@given(essays(markdown=True))
def test_markdown_rendered_reads_back_as_the_same_tree(essay: Essay) -> None:
    text = render_markdown(essay.blocks, essay.footnotes)
    source = f"---\ntitle: {essay.title}\n---\n{text}"
    again = markdown_reader.read(Path("essay.md"), source.encode())
    assert (again.blocks, again.footnotes) == (essay.blocks, essay.footnotes), text
