"""Substack's ProseMirror document: node names, marks, and no empty text nodes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
from pipeline.render.prosemirror import render_prosemirror
from tests.essay_strategies import essay_words, keeps_in_order, label_tokens, nested_essays, para
from tests.test_render_golden import ESSAYS, load_essay

GOLDEN = Path(__file__).parent / "golden" / "render"


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("content", []):
        yield from walk(child)


EDGE_CASES = [
    Paragraph(content=[]),
    Paragraph(content=[Run(text=""), Run(text="", marks=("strong",))]),
    Heading(content=[Run(text="")]),
    Paragraph(content=[Run(text="line\n"), Run(text="\nnext")]),
    ListBlock(
        items=[ListItem(content=[], children=[ListBlock(items=[ListItem(content=[Run(text="")])])])]
    ),
    Quote(paragraphs=[[], [Run(text="")]]),
    Code(text=""),
    Image(src="https://example.com/x.png", caption=""),
]


@pytest.mark.parametrize("name", ESSAYS)
def test_golden_essays_have_no_empty_text_node(name: str) -> None:
    doc = render_prosemirror(blocks_for(load_essay(name), "blog"))
    texts = [n for n in walk(doc) if n["type"] == "text"]
    assert texts and all(n["text"] for n in texts)


def test_empty_runs_and_blocks_produce_no_empty_text_node() -> None:
    doc = render_prosemirror(EDGE_CASES)
    for node in walk(doc):
        if node["type"] == "text":
            assert node["text"]
        assert node.get("content", [None]) != []  # an empty `content` list is also rejected


def test_line_break_inside_a_paragraph_is_a_hard_break() -> None:
    doc = render_prosemirror([Paragraph(content=[Run(text="one\ntwo")])])
    assert doc["content"][0]["content"] == [
        {"type": "text", "text": "one"},
        {"type": "hard_break"},
        {"type": "text", "text": "two"},
    ]


def test_marks_and_links_use_prosemirror_mark_names() -> None:
    doc = render_prosemirror(
        [
            Paragraph(
                content=[Run(text="x", marks=("em", "strong"), href="https://example.com/a_(b)")]
            )
        ]
    )
    assert doc["content"][0]["content"][0]["marks"] == [
        {"type": "strong"},
        {"type": "em"},
        {"type": "link", "attrs": {"href": "https://example.com/a_(b)"}},
    ]


def test_unsafe_link_is_dropped_but_its_text_kept() -> None:
    doc = render_prosemirror([Paragraph(content=[Run(text="x", href="javascript:alert(1)")])])
    assert doc["content"][0]["content"] == [{"type": "text", "text": "x"}]


def test_lists_nest_list_items_holding_paragraphs() -> None:
    block = ListBlock(
        ordered=True,
        start=3,
        items=[
            ListItem(
                content=[Run(text="a")],
                children=[ListBlock(items=[ListItem(content=[Run(text="b")])])],
            )
        ],
    )
    (node,) = render_prosemirror([block])["content"]
    assert node["type"] == "ordered_list" and node["attrs"] == {"start": 3}
    item = node["content"][0]
    assert item["type"] == "list_item"
    assert [child["type"] for child in item["content"]] == ["paragraph", "bullet_list"]


def test_image_is_a_captioned_image_with_image2_and_caption() -> None:
    (node,) = render_prosemirror([Image(src="https://e.x/i.png", alt="alt", caption="cap")])[
        "content"
    ]
    assert node["type"] == "captionedImage"
    image, caption = node["content"]
    assert image["type"] == "image2"
    assert (image["attrs"]["src"], image["attrs"]["alt"]) == ("https://e.x/i.png", "alt")
    assert caption == {"type": "caption", "content": [{"type": "text", "text": "cap"}]}


def test_code_block_keeps_language_and_text() -> None:
    (node,) = render_prosemirror([Code(language="python", text="print(1)\n")])["content"]
    assert node == {
        "type": "codeBlock",
        "attrs": {"language": "python"},
        "content": [{"type": "text", "text": "print(1)\n"}],
    }


# ---------------------------------------------------------------- the schema we write to

# The node names we use and what each may hold, as ProseMirror's list and basic schemas and
# python-substack's documents have them ("paragraph block*" for a list item, "block+" for a
# quote); `footnote` only at the end of the document, `footnoteAnchor` inline.
BLOCKS = {
    "paragraph",
    "heading",
    "bullet_list",
    "ordered_list",
    "blockquote",
    "codeBlock",
    "captionedImage",
    "horizontal_rule",
}
INLINE = {"text", "hard_break", "footnoteAnchor"}
MARKS = {"strong", "em", "code", "link"}


def schema_problems(doc: dict[str, Any]) -> list[str]:
    """Everything in `doc` that Substack's editor schema (as far as we know it) would refuse."""
    problems: list[str] = []
    anchors: list[int] = []

    def children(node: dict[str, Any]) -> list[dict[str, Any]]:
        content = node.get("content")
        if content == []:
            problems.append(f"empty content list in {node['type']}")
        return content or []

    def inline(node: dict[str, Any], *, required: bool) -> None:
        kids = children(node)
        if required and not kids:
            problems.append(f"{node['type']} without text")
        for kid in kids:
            if kid["type"] not in INLINE:
                problems.append(f"{kid['type']} inside {node['type']}")
            elif kid["type"] == "text":
                if not kid.get("text"):
                    problems.append("empty text node")
                for mark in kid.get("marks", []):
                    if mark["type"] not in MARKS:
                        problems.append(f"unknown mark {mark['type']}")
                    if mark["type"] == "link" and not mark.get("attrs", {}).get("href"):
                        problems.append("link without href")
            elif kid["type"] == "footnoteAnchor":
                anchors.append(kid["attrs"]["number"])

    def block(node: dict[str, Any]) -> None:
        kind = node["type"]
        if kind not in BLOCKS:
            problems.append(f"unknown block {kind}")
        elif kind == "paragraph":
            inline(node, required=False)
        elif kind == "heading":
            if not 1 <= node["attrs"]["level"] <= 6:
                problems.append("heading level")
            inline(node, required=True)
        elif kind in ("bullet_list", "ordered_list"):
            if kind == "ordered_list" and node["attrs"]["start"] < 0:
                problems.append("negative start")
            items = children(node)
            if not items:
                problems.append(f"{kind} without items")
            for item in items:
                if item["type"] != "list_item":
                    problems.append(f"{item['type']} inside {kind}")
                    continue
                inner = children(item)
                if not inner or inner[0]["type"] != "paragraph":
                    problems.append("list_item not starting with a paragraph")
                for child in inner:
                    block(child)
        elif kind == "blockquote":
            inner = children(node)
            if not inner:
                problems.append("empty blockquote")
            for child in inner:
                block(child)
        elif kind == "codeBlock":
            for kid in children(node):
                if kid["type"] != "text" or not kid["text"] or kid.get("marks"):
                    problems.append("code block holds more than plain text")
        elif kind == "captionedImage":
            kinds = [kid["type"] for kid in children(node)]
            if kinds not in (["image2"], ["image2", "caption"]):
                problems.append(f"captionedImage holds {kinds}")

    body = children(doc)
    notes = [node for node in body if node["type"] == "footnote"]
    first_note = len(body) - len(notes)
    if any(node["type"] == "footnote" for node in body[:first_note]):
        problems.append("footnote before the end")
    for node in body[:first_note]:
        block(node)
    numbers = [note["attrs"]["number"] for note in notes]
    if numbers != list(range(1, len(notes) + 1)):
        problems.append(f"footnotes numbered {numbers}")
    for note in notes:
        paragraphs = children(note)
        if not paragraphs or any(p["type"] != "paragraph" for p in paragraphs):
            problems.append("footnote not made of paragraphs")
        for paragraph in paragraphs:
            inline(paragraph, required=False)
    if not set(anchors) <= set(numbers):
        problems.append(f"anchors {anchors} without notes {numbers}")
    return problems


def doc_words(node: dict[str, Any]) -> list[str]:
    """The text a reader of the document gets, block by block, as pieces to join."""
    if node["type"] == "text":
        return [node["text"]]
    if node["type"] in ("hard_break", "footnoteAnchor"):
        return [" "]
    if node["type"] == "image2":  # its alt text, what a screen reader says
        return [" ", node["attrs"]["alt"] or "", " "]
    pieces = [piece for child in node.get("content", []) for piece in doc_words(child)]
    return (
        pieces
        if node["type"] in INLINE | {"paragraph", "heading", "caption"}
        else [" ", *pieces, " "]
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nested_essays)
def test_any_nested_essay_is_a_valid_substack_doc_keeping_every_word(essay: Essay) -> None:
    doc = render_prosemirror(essay.blocks, essay.footnotes)
    assert schema_problems(doc) == []
    seen = label_tokens("".join(doc_words(doc)))
    assert keeps_in_order(essay_words(essay.blocks, essay.footnotes), seen) == []
    assert "|" not in "".join(doc_words(doc)).replace("x|y", "")


@pytest.mark.parametrize("name", ESSAYS)
def test_golden_essays_are_valid_substack_docs(name: str) -> None:
    assert schema_problems(render_prosemirror(blocks_for(load_essay(name), "blog"))) == []


def test_items_hold_code_quotes_and_lists_and_always_start_with_a_paragraph() -> None:
    (node,) = render_prosemirror(
        [
            ListBlock(
                ordered=True,
                start=0,
                items=[
                    ListItem(blocks=[para(Run(text="Install:")), Code(text="pip x")]),
                    ListItem(blocks=[Quote(blocks=[para(Run(text="q"))])]),
                    ListItem(checked=True, blocks=[para(Run(text="done"))]),
                    ListItem(blocks=[]),
                ],
            )
        ]
    )["content"]
    assert node["attrs"] == {"start": 0}
    kinds = [[child["type"] for child in item["content"]] for item in node["content"]]
    assert kinds == [
        ["paragraph", "codeBlock"],
        ["paragraph", "blockquote"],
        ["paragraph"],
        ["paragraph"],
    ]
    assert node["content"][1]["content"][0] == {"type": "paragraph"}
    assert node["content"][2]["content"][0]["content"][0] == {"type": "text", "text": "☑ "}


def test_quotes_nest_and_hold_any_block() -> None:
    (node,) = render_prosemirror(
        [
            Quote(
                blocks=[
                    Heading(level=3, content=[Run(text="H")]),
                    Quote(blocks=[para(Run(text="inner"))]),
                    ListBlock(items=[ListItem(content=[Run(text="i")])]),
                ]
            )
        ]
    )["content"]
    assert [child["type"] for child in node["content"]] == ["heading", "blockquote", "bullet_list"]


def test_footnotes_are_anchors_in_the_text_and_notes_at_the_end() -> None:
    doc = render_prosemirror(
        [para(Run(text="A year"), NoteRef(label="y"), Run(text=" on."))],
        [Footnote(label="y", blocks=[para(Run(text="Or two.")), Code(text="x = 1")])],
    )
    paragraph, note = doc["content"]
    assert paragraph["content"] == [
        {"type": "text", "text": "A year"},
        {"type": "footnoteAnchor", "attrs": {"number": 1}},
        {"type": "text", "text": " on."},
    ]
    assert note == {
        "type": "footnote",
        "attrs": {"number": 1},
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "Or two."}]},
            {"type": "paragraph", "content": [{"type": "text", "text": "x = 1"}]},
        ],
    }


def test_a_table_becomes_a_list_of_rows_naming_their_columns() -> None:
    def cell(text: str) -> TableCell:
        return TableCell(content=[Run(text=text)])

    (node,) = render_prosemirror(
        [Table(header=[cell("Year"), cell("Riders")], rows=[[cell("2019"), cell("3,000")]])]
    )["content"]
    assert node == {
        "type": "bullet_list",
        "content": [
            {
                "type": "list_item",
                "content": [
                    {
                        "type": "paragraph",
                        "content": [
                            {"type": "text", "text": "Year", "marks": [{"type": "strong"}]},
                            {"type": "text", "text": ": "},
                            {"type": "text", "text": "2019"},
                            {"type": "text", "text": " · "},
                            {"type": "text", "text": "Riders", "marks": [{"type": "strong"}]},
                            {"type": "text", "text": ": "},
                            {"type": "text", "text": "3,000"},
                        ],
                    }
                ],
            }
        ],
    }


def test_breaks_inline_images_and_unknown_marks() -> None:
    (node,) = render_prosemirror(
        [
            para(
                Run(text="old", marks=("strike", "em")),
                LineBreak(),
                InlineImage(src="https://e.x/b.png", alt="badge"),
                InlineImage(src="javascript:x", alt="bad"),
            )
        ]
    )["content"]
    assert node["content"] == [
        {"type": "text", "text": "old", "marks": [{"type": "em"}]},
        {"type": "hard_break"},
        {
            "type": "text",
            "text": "[image: badge]",
            "marks": [{"type": "link", "attrs": {"href": "https://e.x/b.png"}}],
        },
        {"type": "text", "text": "[image: bad]"},
    ]


def test_a_linked_image_keeps_its_link_and_title() -> None:
    (node,) = render_prosemirror(
        [Image(src="https://e.x/i.png", title="Map", href="https://e.x/big")]
    )["content"]
    attrs = node["content"][0]["attrs"]
    assert (attrs["title"], attrs["href"]) == ("Map", "https://e.x/big")
