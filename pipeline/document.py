"""The essay model: the one shape every reader produces and every renderer consumes.

Blocks form a tree, as the sources do: a list item or a quote holds blocks (paragraphs,
lists, code, quotes, headings, images, rules, tables) to any depth, so a code sample in a
step of a tutorial stays a code sample on every platform that can show one.

Inline text is a flat list of nodes, the same shape ProseMirror and most editors use, so
no renderer has to walk a tree to find out whether a word is bold: mostly `Run`s (text plus
marks and an optional link), and three nodes that are not text: a hard `LineBreak` (never
a newline inside a run's text), an `InlineImage` (an image inside running text, possibly
linked) and a `NoteRef` (a footnote reference; the note itself lives in `Essay.footnotes`).
Every inline node answers `.text`, `.marks` and `.href`, so code that only wants the words
can treat them alike.

The author's promo (call to action) and related-posts list are parts of their own: each
destination decides whether to keep them, and they never leak into teasers or threads.

Older readers built list items as `content` + `children` and quotes as `paragraphs`;
those shapes are still accepted on input (and converted into blocks), so an Essay JSON
written before the tree model loads unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    Tag,
    model_serializer,
    model_validator,
)

Mark = Literal["strong", "em", "code", "strike", "sub", "sup"]
Align = Literal["left", "center", "right"]
# The one order marks are kept in on a run (outermost first, code innermost), so equal
# styling compares equal and every renderer nests tags the same way.
MARK_ORDER: tuple[Mark, ...] = ("strong", "em", "strike", "sub", "sup", "code")
# Blocks are not changed once built (a changed essay is a copy): renders of the same block
# objects are shared between destinations (pipeline/render/memo.py), so they are frozen.
FROZEN = ConfigDict(frozen=True)


M = TypeVar("M", bound=BaseModel)
_new = object.__new__
_set = object.__setattr__


def built(cls: type[M], **values: Any) -> M:
    """A model from values that already have their types, every field given in order,
    without validating them again: for readers' and renderers' hot paths, where a node's
    text, marks (a tuple, in `MARK_ORDER`) and link come straight from typed code.

    Measured on pydantic 2.14: about half the cost of a validated `Run(...)`, and a fifth
    of `model_construct`, which is written in Python and slower than validating.
    """
    node = _new(cls)
    _set(node, "__dict__", values)
    _set(node, "__pydantic_fields_set__", set(values))
    _set(node, "__pydantic_extra__", None)
    _set(node, "__pydantic_private__", None)
    return node


class Run(BaseModel):
    """A stretch of text with the same marks; `href` makes it a link."""

    model_config = ConfigDict(frozen=True)

    type: Literal["text"] = Field("text", exclude=True)
    text: str
    marks: tuple[Mark, ...] = ()
    href: str | None = None


class LineBreak(BaseModel):
    """A hard line break inside a paragraph (Markdown's trailing backslash, HTML's `<br>`)."""

    model_config = ConfigDict(frozen=True)

    type: Literal["break"] = "break"

    @property
    def text(self) -> str:
        return "\n"

    @property
    def marks(self) -> tuple[Mark, ...]:
        return ()

    @property
    def href(self) -> str | None:
        return None


class InlineImage(BaseModel):
    """An image inside running text; `href` when the image itself is a link."""

    model_config = ConfigDict(frozen=True)

    type: Literal["image"] = "image"
    src: str
    alt: str = ""
    title: str = ""
    href: str | None = None

    @property
    def text(self) -> str:
        return self.alt

    @property
    def marks(self) -> tuple[Mark, ...]:
        return ()


class NoteRef(BaseModel):
    """A footnote reference; `label` names a `Footnote` in `Essay.footnotes`."""

    model_config = ConfigDict(frozen=True)

    type: Literal["note"] = "note"
    label: str

    @property
    def text(self) -> str:
        return ""

    @property
    def marks(self) -> tuple[Mark, ...]:
        return ()

    @property
    def href(self) -> str | None:
        return None


def _inline_kind(value: Any) -> str:
    if isinstance(value, dict):
        return value.get("type", "text")
    return getattr(value, "type", "text")


InlineNode = Annotated[
    Annotated[Run, Tag("text")]
    | Annotated[LineBreak, Tag("break")]
    | Annotated[InlineImage, Tag("image")]
    | Annotated[NoteRef, Tag("note")],
    Discriminator(_inline_kind),
]
Inline = list[InlineNode]


class Heading(BaseModel):
    model_config = FROZEN

    type: Literal["heading"] = "heading"
    level: int = Field(2, ge=1, le=6)
    content: Inline = []


class Paragraph(BaseModel):
    model_config = FROZEN

    type: Literal["paragraph"] = "paragraph"
    content: Inline = []


class ListItem(BaseModel):
    """One item: blocks of its own (usually a paragraph, then perhaps more, nested lists).

    `checked` is set for task-list items (`- [x]`): True done, False open, None not a task.
    """

    model_config = FROZEN

    blocks: list[Block] = []
    checked: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_legacy(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("content" in data or "children" in data):
            data = dict(data)
            content = data.pop("content", None) or []
            children = data.pop("children", None) or []
            blocks = list(data.get("blocks") or [])
            if content:
                blocks.insert(0, Paragraph(content=content))
            blocks.extend(children)
            data["blocks"] = blocks
        return data

    @property
    def content(self) -> Inline:
        """The item's first paragraph (its line, in a simple list); [] when it has none."""
        first = self.blocks[0] if self.blocks else None
        return first.content if isinstance(first, Paragraph) else []

    @property
    def children(self) -> list[ListBlock]:
        """The lists nested directly in this item."""
        return [b for b in self.blocks if isinstance(b, ListBlock)]


class ListBlock(BaseModel):
    """A list; `start` is kept exactly (0 included); `tight` as the source wrote it."""

    model_config = FROZEN

    type: Literal["list"] = "list"
    ordered: bool = False
    start: int = Field(1, ge=0)
    tight: bool = True
    items: list[ListItem] = []


class Quote(BaseModel):
    """A block quote: blocks of its own, quotes nested in quotes included."""

    model_config = FROZEN

    type: Literal["quote"] = "quote"
    blocks: list[Block] = []

    @model_validator(mode="before")
    @classmethod
    def _from_legacy(cls, data: Any) -> Any:
        if isinstance(data, dict) and "paragraphs" in data:
            data = dict(data)
            paragraphs = data.pop("paragraphs") or []
            data["blocks"] = [
                *(data.get("blocks") or []),
                *(p if isinstance(p, Paragraph) else Paragraph(content=p) for p in paragraphs),
            ]
        return data

    @property
    def paragraphs(self) -> list[Inline]:
        """The inline content of the quote's paragraphs and headings, in order (flattened)."""
        return [b.content for b in walk(self.blocks) if isinstance(b, Paragraph | Heading)]


class Code(BaseModel):
    model_config = FROZEN

    type: Literal["code"] = "code"
    language: str | None = None
    text: str = ""


class Image(BaseModel):
    """An image on a line of its own; `href` when the image links somewhere."""

    model_config = FROZEN

    type: Literal["image"] = "image"
    src: str
    alt: str = ""
    caption: str = ""
    title: str = ""
    href: str | None = None
    width: int | None = None
    height: int | None = None


class Rule(BaseModel):
    model_config = FROZEN

    type: Literal["rule"] = "rule"


class TableCell(BaseModel):
    model_config = FROZEN

    content: Inline = []


class Table(BaseModel):
    """A table: one header row (may be empty) and body rows; `align` per column."""

    model_config = FROZEN

    type: Literal["table"] = "table"
    header: list[TableCell] = []
    rows: list[list[TableCell]] = []
    align: list[Align | None] = []

    def width(self) -> int:
        return max([len(self.header), *(len(r) for r in self.rows)], default=0)


Block = Annotated[
    Heading | Paragraph | ListBlock | Quote | Code | Image | Rule | Table,
    Field(discriminator="type"),
]


class Footnote(BaseModel):
    """A footnote: `label` as referenced by `NoteRef`, and the note's blocks."""

    model_config = FROZEN

    label: str
    blocks: list[Block] = []


class RelatedLink(BaseModel):
    """One of the author's other posts; copies from Medium often lose the URL."""

    model_config = FROZEN

    title: str
    url: str | None = None


class Essay(BaseModel):
    """An essay as the author meant it, independent of where it came from.

    `footnotes` are kept in the order of their first reference in the body.
    """

    title: str
    subtitle: str | None = None
    author: str | None = None
    published: date | None = None
    tags: list[str] = []
    canonical_url: str | None = None
    language: str | None = None
    slug: str | None = None
    blocks: list[Block] = []
    footnotes: list[Footnote] = []
    promo: list[Block] = []
    related: list[RelatedLink] = []
    publish_at: datetime | None = None
    targets: dict[str, dict[str, Any] | bool] | None = Field(
        None,
        description="Per-essay overrides from front matter: name -> options, or false (off); "
        '"*": false switches off every target not named.',
    )
    source_format: str | None = None
    front_matter_extra: dict[str, Any] = Field(
        {},
        description="Front-matter keys that are not essay keys: top-level target switches "
        "(`x: false`) or keys to warn about; read with the settings (pipeline/frontmatter.py).",
    )

    @model_serializer(mode="wrap")
    def _without_empty_extra(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """An essay without stray front-matter keys serialises as it always did."""
        data = handler(self)
        if not data.get("front_matter_extra"):
            data.pop("front_matter_extra", None)
        return data

    def effective_slug(self) -> str:
        return self.slug or slugify(self.title)

    def lead(self) -> str:
        """The first top-level paragraph's text: what a teaser is drawn from."""
        for block in self.blocks:
            if isinstance(block, Paragraph) and plain(block.content).strip():
                return plain(block.content).strip()
        return self.subtitle or ""

    def images(self) -> list[Image]:
        """Every block image, nested ones included, in reading order."""
        return [b for b in walk(self.blocks) if isinstance(b, Image)]


ListItem.model_rebuild()
Quote.model_rebuild()
Footnote.model_rebuild()
Essay.model_rebuild()


def walk(blocks: list[Block]) -> Iterator[Block]:
    """Every block in reading order, depth first: a quote, then the blocks inside it."""
    for block in blocks:
        yield block
        if isinstance(block, Quote):
            yield from walk(block.blocks)
        elif isinstance(block, ListBlock):
            for item in block.items:
                yield from walk(item.blocks)


def footnote_label(label: str) -> str:
    """A footnote label as the essay keeps it, whatever the source: matched without regard
    to case (as GFM does), so lower-cased, and whitespace runs become one hyphen (the label
    ends up in an HTML id and a Markdown `[^label]`)."""
    return "-".join(label.split()).casefold()


def with_mark(marks: tuple[Mark, ...], mark: Mark) -> tuple[Mark, ...]:
    """`marks` plus `mark`, in `MARK_ORDER`."""
    return tuple(m for m in MARK_ORDER if m in marks or m == mark)


def plain(content: Inline) -> str:
    """Inline nodes as plain text: marks and links dropped, a break as a newline."""
    return "".join(node.text for node in content)


def block_text(block: Block) -> str:
    """A block's text as a reader sees it, for previews, teasers and thread splitting."""
    if isinstance(block, Heading | Paragraph):
        return plain(block.content)
    if isinstance(block, Quote):
        return "\n".join(t for t in (block_text(b) for b in block.blocks) if t)
    if isinstance(block, Code):
        return block.text
    if isinstance(block, Image):
        return block.caption or block.alt
    if isinstance(block, ListBlock):
        return "\n".join(list_item_texts(block))
    if isinstance(block, Table):
        rows = [block.header, *block.rows] if block.header else block.rows
        return "\n".join(" | ".join(plain(cell.content) for cell in row) for row in rows)
    return ""


def list_item_texts(block: ListBlock) -> list[str]:
    """Every item's text, nested items flattened in reading order."""
    texts: list[str] = []
    for item in block.items:
        for child in item.blocks:
            if isinstance(child, ListBlock):
                texts.extend(list_item_texts(child))
            else:
                text = block_text(child)
                if text:
                    texts.append(text)
    return texts


def slugify(text: str, max_length: int = 80) -> str:
    """A URL slug: ASCII letters, digits and hyphens, as WordPress and Ghost make them."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if not slug:
        slug = "essay"
    return slug[:max_length].rstrip("-")


def lines_to_breaks(content: Inline) -> Inline:
    """Newlines inside runs as `LineBreak` nodes: for readers that build text line by line.

    A newline character inside a run is text (HTML shows it as a space); a line the author
    ended on purpose is a `LineBreak`.
    """
    nodes: list[InlineNode] = []
    for node in content:
        if not isinstance(node, Run) or "\n" not in node.text:
            nodes.append(node)
            continue
        for index, line in enumerate(node.text.split("\n")):
            if index:
                nodes.append(LineBreak())
            if line:
                nodes.append(node.model_copy(update={"text": line}))
    return nodes


def merge_runs(runs: Inline) -> Inline:
    """Join neighbouring text runs that carry the same marks and link; drop empty ones.

    Breaks, inline images and note references are kept as they are, in place.
    """
    merged: list[InlineNode] = []
    for run in runs:
        if not isinstance(run, Run):
            merged.append(run)
            continue
        if not run.text:
            continue
        last = merged[-1] if merged else None
        if isinstance(last, Run) and last.marks == run.marks and last.href == run.href:
            # both halves are valid runs already: construct without validating again
            merged[-1] = built(
                Run, type="text", text=last.text + run.text, marks=run.marks, href=run.href
            )
        else:
            merged.append(run)
    return merged


def summarize(essay: Essay) -> dict:
    """The essay as `crosspost preview --json` shows it: plain text per block."""

    def block_summary(block: Block) -> dict:
        data: dict = {"type": block.type}
        if isinstance(block, ListBlock):
            data["items"] = list_item_texts(block)
            data["ordered"] = block.ordered
        elif isinstance(block, Image):
            data.update(src=block.src, alt=block.alt, caption=block.caption)
        else:
            data["text"] = block_text(block)
        if isinstance(block, Heading):
            data["level"] = block.level
        if isinstance(block, Code):
            data["language"] = block.language
        return data

    return {
        "title": essay.title,
        "subtitle": essay.subtitle,
        "author": essay.author,
        "published": essay.published.isoformat() if essay.published else None,
        "tags": essay.tags,
        "canonical_url": essay.canonical_url,
        "blocks": [block_summary(b) for b in essay.blocks],
        **(
            {
                "footnotes": [
                    {"label": note.label, "text": "\n".join(block_text(b) for b in note.blocks)}
                    for note in essay.footnotes
                ]
            }
            if essay.footnotes
            else {}
        ),
        "promo": "\n\n".join(block_text(b) for b in essay.promo) or None,
        "related": [r.model_dump() for r in essay.related],
    }
