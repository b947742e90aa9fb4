"""Blocks -> readable plain text: for previews, text-only platforms and LinkedIn's base text.

Structure survives as a reader would type it: blank lines between paragraphs, `• ` and
`1. ` items with everything an item holds (paragraphs, code, quotes, lists) indented under
it, `> ` before quoted lines (`> > ` when quotes nest), links as "text (url)", a table as
one line per row that names its columns, and footnotes as "[1]" markers with the notes,
numbered the same, at the end. Text never loses the space between two words.

`PlainText` is also the skeleton of the Telegram renderer, which overrides how a piece is
written (escaping, tags) but keeps the same layout.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

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
    ListItem,
    NoteRef,
    Paragraph,
    Quote,
    Rule,
    Run,
    Table,
)
from pipeline.render.parts import link_groups, link_label, note_marker, note_numbers, table_rows

RULE = "* * *"
CELL_SEPARATOR = " · "
TASK_DONE = "☑ "
TASK_OPEN = "☐ "


def render_plain(blocks: list[Block], footnotes: Sequence[Footnote] = ()) -> str:
    """The blocks as plain text, separated by blank lines, then the footnotes."""
    return PlainText(footnotes).document(blocks)


def image_label(image: Image | InlineImage) -> str:
    """What stands for an image in text-only outputs: its alt text (else its caption)."""
    caption = image.caption if isinstance(image, Image) else ""
    described = " ".join((image.alt or caption).split())
    return f"[image: {described}]" if described else "[image]"


def image_caption(image: Image) -> str:
    """The caption to show under an image's label, unless the label already shows it."""
    return image.caption if image.alt and image.caption and image.caption != image.alt else ""


def hang(marker: str, body: str) -> list[str]:
    """`body` after `marker`, its further lines indented to line up under the first."""
    first, *rest = body.split("\n") if body else [""]
    pad = " " * len(marker)
    return [f"{marker}{first}".rstrip(), *(pad + line if line else "" for line in rest)]


CLOSING_PUNCTUATION = frozenset(".,;:!?…。、，．！？：；")


def _word_start(char: str) -> bool:
    """A character that would read as glued to a label before it: not a space, not the
    punctuation that ends a phrase or closes a bracket or quote ("." "," ")" "”" "。")."""
    if not char or char.isspace() or char in CLOSING_PUNCTUATION:
        return False
    return unicodedata.category(char) not in ("Pe", "Pf")


def _word_end(char: str) -> bool:
    """A character a label after it would read as glued to: not a space, not an opening
    bracket or quote."""
    return bool(char) and not char.isspace() and unicodedata.category(char) not in ("Ps", "Pi")


class PlainText:
    """Writes blocks as plain text; subclasses change how pieces are written, not the layout."""

    quote_marker = "> "
    shows_link_urls = True  # a link is written "text (url)"

    def __init__(self, footnotes: Sequence[Footnote] = ()) -> None:
        self.footnotes = list(footnotes)
        self.numbers = note_numbers(self.footnotes)

    # ---------------------------------------------------------------- writing hooks

    def escape(self, text: str) -> str:
        return text

    # ---------------------------------------------------------------- blocks

    def document(self, blocks: list[Block]) -> str:
        """The blocks, then (when any is referenced or given) the numbered notes."""
        return "\n\n".join(c for c in (self.blocks(blocks), self.notes()) if c)

    def blocks(self, blocks: list[Block], separator: str = "\n\n") -> str:
        return separator.join(chunk for block in blocks if (chunk := self.block(block)))

    def block(self, block: Block) -> str:
        if isinstance(block, Heading):
            return self.heading(block)
        if isinstance(block, Paragraph):
            return self.inline(block.content)
        if isinstance(block, ListBlock):
            return "\n".join(self.list_lines(block))
        if isinstance(block, Quote):
            return self.quote(block)
        if isinstance(block, Code):
            return self.code(block)
        if isinstance(block, Image):
            return self.image(block)
        if isinstance(block, Rule):
            return RULE
        if isinstance(block, Table):
            return "\n".join(self.table_lines(block))
        return ""

    def heading(self, block: Heading) -> str:
        return self.inline(block.content)

    def code(self, block: Code) -> str:
        return self.escape(block.text.rstrip("\n"))

    def image(self, block: Image) -> str:
        caption = image_caption(block)
        label = self.escape(image_label(block))
        return f"{label}\n{self.escape(caption)}" if caption else label

    def quote(self, block: Quote) -> str:
        """Every line of the quoted blocks behind `> ` (nested quotes add their own)."""
        text = self.blocks(block.blocks)
        marker = self.quote_marker
        return "\n".join(marker + line if line else marker.rstrip() for line in text.split("\n"))

    def list_lines(self, block: ListBlock) -> list[str]:
        """`• ` / `1. ` items; whatever an item holds is indented under its first line."""
        lines: list[str] = []
        for index, item in enumerate(block.items):
            marker = f"{block.start + index}. " if block.ordered else "• "
            if item.checked is not None:
                marker += TASK_DONE if item.checked else TASK_OPEN
            lines.extend(self.item_lines(marker, item))
        return lines

    def item_lines(self, marker: str, item: ListItem) -> list[str]:
        lines: list[str] = []
        pad = " " * len(marker)
        for block in item.blocks:
            chunk = self.block(block)
            if not chunk:
                continue
            if self.indents(block):
                lines.extend(hang(pad if lines else marker, chunk))
            else:
                lines.extend([marker.rstrip()] if not lines else [])
                lines.extend(chunk.split("\n"))
        return lines or [marker.rstrip()]

    def indents(self, block: Block) -> bool:
        """Whether a block inside a list item is indented under the item's first line."""
        return True

    def table_lines(self, table: Table) -> list[str]:
        """One bulleted line per row: "Year: 2019 · Riders: 3,000" (no pipes, no grid)."""
        lines: list[str] = []
        for row in table_rows(table):
            cells = [
                f"{self.column_label(head)}: {self.one_line(cell)}"
                if head is not None
                else self.one_line(cell)
                for head, cell in row
            ]
            if cells:
                lines.append("• " + CELL_SEPARATOR.join(cells))
        return lines

    def column_label(self, header: Inline) -> str:
        """A column's header as it labels a cell."""
        return self.one_line(header)

    def one_line(self, content: Inline) -> str:
        """Inline content on one line: a break inside a table cell becomes a space."""
        return " ".join(self.inline(content).split("\n"))

    def notes(self) -> str:
        """Each footnote as "[n] its text", in the essay's order (that of first reference)."""
        lines: list[str] = []
        for note in self.footnotes:
            marker = note_marker(note.label, self.numbers) + " "
            lines.extend(hang(marker, self.blocks(note.blocks, "\n")))
        return "\n".join(lines)

    # ---------------------------------------------------------------- inline

    def inline(self, content: Inline) -> str:
        """Inline nodes in order. The labels this output adds (an image's "[image: …]", a
        note's "[1]", a link's "(url)") never touch a word: a note marker ends with its
        bracket ("a year[1]", never "a year1") and a space separates a label from a word
        that would follow it (in any script: a URL must not run into the next word)."""
        parts: list[str] = []
        last = ""  # the last character a reader sees so far
        after_label = False
        for href, nodes in link_groups(content):
            inner: list[str] = []
            for node in nodes:
                text = self.inline_node(node, in_link=href is not None)
                if not text:
                    continue
                seen = node.text if isinstance(node, Run) else text
                if isinstance(node, InlineImage):
                    gap = _word_end(last)
                else:
                    gap = after_label and isinstance(node, Run) and _word_start(seen[:1])
                if gap:
                    (inner if inner else parts).append(" ")
                inner.append(text)
                last = "]" if isinstance(node, InlineImage | NoteRef) else seen[-1:]
                after_label = isinstance(node, InlineImage | NoteRef)
            if not inner:
                continue
            joined = "".join(inner)
            parts.append(self.link(joined, href) if href else joined)
            if href and self.shows_link_urls and not last.isspace():
                last, after_label = ")", True
        return "".join(parts)

    def link(self, text: str, href: str) -> str:
        return link_label(text, href)

    def inline_node(self, node: InlineNode, *, in_link: bool) -> str:
        if isinstance(node, Run):
            return self.run(node, in_link=in_link)
        if isinstance(node, LineBreak):
            return "\n"
        if isinstance(node, NoteRef):
            return self.escape(note_marker(node.label, self.numbers))
        if isinstance(node, InlineImage):
            return self.inline_image(node, in_link=in_link)
        return ""

    def run(self, run: Run, *, in_link: bool) -> str:
        return run.text

    def inline_image(self, image: InlineImage, *, in_link: bool) -> str:
        return image_label(image)
