"""Blocks -> readable plain text: for previews, text-only platforms and LinkedIn's base text.

Structure survives as a reader would type it: blank lines between paragraphs, `• ` and
`1. ` items indented under their parent, `> ` before quoted lines, links as "text (url)".
"""

from __future__ import annotations

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
from pipeline.render.parts import link_groups, link_label
from pipeline.render.telegram import RULE, image_caption, image_label


def render_plain(blocks: list[Block]) -> str:
    """The blocks as plain text, separated by blank lines."""
    chunks = [_block(block) for block in blocks]
    return "\n\n".join(chunk for chunk in chunks if chunk)


def _block(block: Block) -> str:
    if isinstance(block, Heading | Paragraph):
        return inline_plain(block.content)
    if isinstance(block, ListBlock):
        return "\n".join(_list_lines(block, indent=""))
    if isinstance(block, Quote):
        text = "\n\n".join(t for p in block.paragraphs if (t := inline_plain(p)))
        return "\n".join(f"> {line}" if line else ">" for line in text.split("\n")) if text else ""
    if isinstance(block, Code):
        return block.text.rstrip("\n")
    if isinstance(block, Image):
        caption = image_caption(block)
        return f"{image_label(block)}\n{caption}" if caption else image_label(block)
    if isinstance(block, Rule):
        return RULE
    return ""


def _list_lines(block: ListBlock, indent: str) -> list[str]:
    lines: list[str] = []
    for index, item in enumerate(block.items):
        marker = f"{block.start + index}. " if block.ordered else "• "
        inner = indent + " " * len(marker)
        first, *rest = inline_plain(item.content).split("\n")
        lines.append(f"{indent}{marker}{first}".rstrip())
        lines.extend(inner + line for line in rest)
        for child in item.children:
            lines.extend(_list_lines(child, inner))
    return lines


def inline_plain(content: Inline) -> str:
    """Runs as text; a link shows its URL in parentheses unless the text already is it."""
    parts: list[str] = []
    for href, runs in link_groups(content):
        text = "".join(run.text for run in runs)
        parts.append(link_label(text, href) if href else text)
    return "".join(parts)
