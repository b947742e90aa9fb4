"""Blocks -> Substack's ProseMirror document (the `draft_body` JSON, see platforms.md §5b).

Node names follow python-substack's `substack/post.py` (the only public description of
Substack's schema): `bullet_list`/`ordered_list` (`start` kept, 0 included)/`list_item`,
`blockquote`, `codeBlock`, `captionedImage` holding an `image2` (whose `href` links the
image), `horizontal_rule`, `hard_break`. Footnotes use the editor's `footnoteAnchor`
(inline, `{"number": n}`) and `footnote` (a block at the end, same number, holding
paragraphs), as third-party publishers that post through the same endpoint build them.

A list item starts with a paragraph (ProseMirror's list schema asks for one) and may then
hold any block, nested lists, code and quotes included; a quote holds any block. What
Substack has no node for is written readably instead: a table becomes a bulleted list of
rows that name their columns (never pipes), a task item starts with ☑ or ☐, an image
inside running text becomes its alt text linked to the image. Marks are the ones
python-substack sends (`strong`, `em`, `code`, `link`); strikethrough, sub- and
superscript are not known to exist there, so their text is kept without the mark rather
than risk a mark the editor rejects. ProseMirror rejects a text node with empty text, and
an empty `content` list, so neither is ever emitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.document import (
    Block,
    Code,
    Footnote,
    Heading,
    Image,
    Inline,
    InlineImage,
    InlineNode,
    LineBreak,
    ListBlock,
    NoteRef,
    Paragraph,
    Quote,
    Rule,
    Run,
    Table,
)
from pipeline.render.html import code_language
from pipeline.render.parts import link_groups, note_marker, note_numbers, safe_href, table_rows
from pipeline.render.plain import CELL_SEPARATOR, TASK_DONE, TASK_OPEN, PlainText, image_label

Node = dict[str, Any]

# The marks python-substack sends; others are left off (their text stays).
SUBSTACK_MARKS = ("strong", "em", "code")


def render_prosemirror(blocks: list[Block], footnotes: Sequence[Footnote] = ()) -> Node:
    """The blocks as a ProseMirror `doc` node, the footnotes after them."""
    return _Writer(footnotes).doc(blocks)


class _Writer:
    def __init__(self, footnotes: Sequence[Footnote] = ()) -> None:
        self.footnotes = list(footnotes)
        self.numbers = note_numbers(self.footnotes)

    def doc(self, blocks: list[Block]) -> Node:
        content = self.blocks(blocks) + [self.footnote(note) for note in self.footnotes]
        # a document holds at least one block: an essay with nothing to show is one empty line
        return {"type": "doc", "content": content or [{"type": "paragraph"}]}

    def blocks(self, blocks: list[Block]) -> list[Node]:
        return [node for block in blocks if (node := self.block(block)) is not None]

    def block(self, block: Block) -> Node | None:
        if isinstance(block, Heading):
            inline = self.inline(block.content)
            if not inline:
                return None
            return {"type": "heading", "attrs": {"level": block.level}, "content": inline}
        if isinstance(block, Paragraph):
            inline = self.inline(block.content)
            return {"type": "paragraph", "content": inline} if inline else None
        if isinstance(block, ListBlock):
            return self.list(block)
        if isinstance(block, Quote):
            content = self.blocks(block.blocks)
            return {"type": "blockquote", "content": content} if content else None
        if isinstance(block, Code):
            return _code(block)
        if isinstance(block, Image):
            return _image(block)
        if isinstance(block, Rule):
            return {"type": "horizontal_rule"}
        if isinstance(block, Table):
            return self.table(block)
        return None

    def list(self, block: ListBlock) -> Node:
        items = []
        for item in block.items:
            content = self.blocks(item.blocks)
            if not content or content[0]["type"] != "paragraph":
                content.insert(0, {"type": "paragraph"})
            if item.checked is not None:
                box = {"type": "text", "text": (TASK_DONE if item.checked else TASK_OPEN)}
                first = content[0]
                first["content"] = [box, *first.get("content", [])]
            items.append({"type": "list_item", "content": content})
        if block.ordered:
            return {"type": "ordered_list", "attrs": {"start": block.start}, "content": items}
        return {"type": "bullet_list", "content": items}

    def table(self, table: Table) -> Node | None:
        """A bulleted list, one item per row: "**Year**: 2019 · **Riders**: 3,000"."""
        items = []
        for row in table_rows(table):
            inline: list[Node] = []
            for head, cell in row:
                if inline:
                    inline.append({"type": "text", "text": CELL_SEPARATOR})
                if head is not None:
                    label = " ".join(PlainText(self.footnotes).inline(head).split())
                    inline.append({"type": "text", "text": label, "marks": [{"type": "strong"}]})
                    inline.append({"type": "text", "text": ": "})
                inline.extend(n for n in self.inline(cell) if n["type"] != "hard_break")
            if inline:
                items.append(
                    {"type": "list_item", "content": [{"type": "paragraph", "content": inline}]}
                )
        return {"type": "bullet_list", "content": items} if items else None

    def footnote(self, note: Footnote) -> Node:
        """A note at the end; blocks other than paragraphs are written as paragraphs."""
        paragraphs: list[Node] = []
        for block in note.blocks:
            if isinstance(block, Paragraph):
                inline = self.inline(block.content)
            else:
                text = PlainText(self.footnotes).block(block)
                inline = self.inline([Run(text=text)]) if text else []
            if inline:
                paragraphs.append({"type": "paragraph", "content": inline})
        number = self.numbers[note.label]
        return {
            "type": "footnote",
            "attrs": {"number": number},
            "content": paragraphs or [{"type": "paragraph"}],
        }

    def inline(self, content: Inline) -> list[Node]:
        nodes: list[Node] = []
        for href, group in link_groups(content):
            for node in group:
                nodes.extend(self.inline_node(node, href))
        return nodes

    def inline_node(self, node: InlineNode, href: str | None) -> list[Node]:
        if isinstance(node, LineBreak):
            return [{"type": "hard_break"}]
        if isinstance(node, NoteRef):
            if node.label in self.numbers:
                return [{"type": "footnoteAnchor", "attrs": {"number": self.numbers[node.label]}}]
            return _text(note_marker(node.label, self.numbers), (), href)
        if isinstance(node, InlineImage):
            return _text(image_label(node), (), href or safe_href(node.src))
        if isinstance(node, Run):
            return _text(node.text, node.marks, href)
        return []


def _text(text: str, marks: Sequence[str], href: str | None) -> list[Node]:
    """Text nodes for `text`, a `hard_break` at each newline, never an empty text node."""
    mark_nodes: list[Node] = [{"type": m} for m in SUBSTACK_MARKS if m in marks]
    if href:
        mark_nodes.append({"type": "link", "attrs": {"href": href}})
    nodes: list[Node] = []
    for number, line in enumerate(text.split("\n")):
        if number > 0:
            nodes.append({"type": "hard_break"})
        if line:
            node: Node = {"type": "text", "text": line}
            if mark_nodes:
                node["marks"] = [dict(mark) for mark in mark_nodes]
            nodes.append(node)
    return nodes


def _code(block: Code) -> Node:
    node: Node = {"type": "codeBlock"}
    language = code_language(block.language)
    if language:
        node["attrs"] = {"language": language}
    if block.text:
        node["content"] = [{"type": "text", "text": block.text}]
    return node


def _image(image: Image) -> Node | None:
    src = safe_href(image.src)
    if src is None:
        return None
    # The attributes python-substack sends; sizes unknown to us are left null.
    attrs = {
        "src": src,
        "alt": image.alt or None,
        "title": image.title or None,
        "fullscreen": False,
        "imageSize": "normal",
        "height": None,
        "width": None,
        "resizeWidth": None,
        "bytes": None,
        "type": None,
        "href": safe_href(image.href, allow_relative=False) if image.href else None,
        "belowTheFold": False,
        "internalRedirect": None,
    }
    content: list[Node] = [{"type": "image2", "attrs": attrs}]
    if image.caption:
        content.append({"type": "caption", "content": [{"type": "text", "text": image.caption}]})
    return {"type": "captionedImage", "content": content}
