"""Substack's ProseMirror document: node names, marks, and no empty text nodes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.document import Code, Heading, Image, ListBlock, ListItem, Paragraph, Quote, Run
from pipeline.render.parts import blocks_for
from pipeline.render.prosemirror import render_prosemirror
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
