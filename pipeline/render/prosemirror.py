"""Blocks -> Substack's ProseMirror document (the `draft_body` JSON, see platforms.md §5b).

Node names follow python-substack's `substack/post.py` (the only public description of
Substack's schema): `bullet_list`/`ordered_list`/`list_item`, `blockquote`, `codeBlock`,
`captionedImage` holding an `image2`, `horizontal_rule`. ProseMirror rejects a text node
with empty text, so none is ever emitted; a line break inside text becomes `hard_break`.
"""

from __future__ import annotations

from typing import Any

from pipeline.document import (
    Block,
    Code,
    Heading,
    Image,
    Inline,
    ListBlock,
    Paragraph,
    Quote,
    Rule,
)
from pipeline.render.html import code_language
from pipeline.render.parts import MARK_ORDER, link_groups, safe_href

Node = dict[str, Any]


def render_prosemirror(blocks: list[Block]) -> Node:
    """The blocks as a ProseMirror `doc` node."""
    content = [node for block in blocks if (node := _block(block)) is not None]
    return {"type": "doc", "content": content}


def _block(block: Block) -> Node | None:
    if isinstance(block, Heading):
        inline = inline_nodes(block.content)
        if not inline:
            return None
        return {"type": "heading", "attrs": {"level": block.level}, "content": inline}
    if isinstance(block, Paragraph):
        return _paragraph(block.content) if inline_nodes(block.content) else None
    if isinstance(block, ListBlock):
        return _list(block)
    if isinstance(block, Quote):
        paragraphs = [_paragraph(p) for p in block.paragraphs if inline_nodes(p)]
        return {"type": "blockquote", "content": paragraphs} if paragraphs else None
    if isinstance(block, Code):
        node: Node = {"type": "codeBlock"}
        language = code_language(block.language)
        if language:
            node["attrs"] = {"language": language}
        if block.text:
            node["content"] = [{"type": "text", "text": block.text}]
        return node
    if isinstance(block, Image):
        return _image(block)
    if isinstance(block, Rule):
        return {"type": "horizontal_rule"}
    return None


def _paragraph(content: Inline) -> Node:
    """A paragraph; an empty one has no `content` key at all (never an empty text node)."""
    inline = inline_nodes(content)
    return {"type": "paragraph", "content": inline} if inline else {"type": "paragraph"}


def _list(block: ListBlock) -> Node:
    items = []
    for item in block.items:
        children = [_paragraph(item.content)] + [_list(child) for child in item.children]
        items.append({"type": "list_item", "content": children})
    if block.ordered:
        return {"type": "ordered_list", "attrs": {"start": block.start}, "content": items}
    return {"type": "bullet_list", "content": items}


def _image(image: Image) -> Node | None:
    src = safe_href(image.src)
    if src is None:
        return None
    # The attributes python-substack sends; sizes unknown to us are left null.
    attrs = {
        "src": src,
        "alt": image.alt or None,
        "title": None,
        "fullscreen": False,
        "imageSize": "normal",
        "height": None,
        "width": None,
        "resizeWidth": None,
        "bytes": None,
        "type": None,
        "href": None,
        "belowTheFold": False,
        "internalRedirect": None,
    }
    content: list[Node] = [{"type": "image2", "attrs": attrs}]
    if image.caption:
        content.append({"type": "caption", "content": [{"type": "text", "text": image.caption}]})
    return {"type": "captionedImage", "content": content}


def inline_nodes(content: Inline) -> list[Node]:
    """Text nodes with marks; `\\n` inside a run becomes a `hard_break` node."""
    nodes: list[Node] = []
    for href, runs in link_groups(content):
        for run in runs:
            marks: list[Node] = [{"type": m} for m in MARK_ORDER if m in run.marks]
            if href:
                marks.append({"type": "link", "attrs": {"href": href}})
            for number, line in enumerate(run.text.split("\n")):
                if number > 0:
                    nodes.append({"type": "hard_break"})
                if line:
                    node: Node = {"type": "text", "text": line}
                    if marks:
                        node["marks"] = [dict(mark) for mark in marks]
                    nodes.append(node)
    return nodes
