"""The essay model: the one shape every reader produces and every renderer consumes.

Inline text is a flat list of `Run`s (text plus marks), the same shape ProseMirror and
most editors use, so no renderer has to walk a tree to find out whether a word is bold.
The author's promo (call to action) and related-posts list are parts of their own: each
destination decides whether to keep them, and they never leak into teasers or threads.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

Mark = Literal["strong", "em", "code"]


class Run(BaseModel):
    """A stretch of text with the same marks; `href` makes it a link."""

    model_config = ConfigDict(frozen=True)

    text: str
    marks: tuple[Mark, ...] = ()
    href: str | None = None


Inline = list[Run]


class Heading(BaseModel):
    type: Literal["heading"] = "heading"
    level: int = Field(2, ge=1, le=6)
    content: Inline = []


class Paragraph(BaseModel):
    type: Literal["paragraph"] = "paragraph"
    content: Inline = []


class ListItem(BaseModel):
    content: Inline = []
    children: list[ListBlock] = []


class ListBlock(BaseModel):
    type: Literal["list"] = "list"
    ordered: bool = False
    start: int = 1
    items: list[ListItem] = []


class Quote(BaseModel):
    type: Literal["quote"] = "quote"
    paragraphs: list[Inline] = []


class Code(BaseModel):
    type: Literal["code"] = "code"
    language: str | None = None
    text: str = ""


class Image(BaseModel):
    type: Literal["image"] = "image"
    src: str
    alt: str = ""
    caption: str = ""


class Rule(BaseModel):
    type: Literal["rule"] = "rule"


Block = Annotated[
    Heading | Paragraph | ListBlock | Quote | Code | Image | Rule,
    Field(discriminator="type"),
]


class RelatedLink(BaseModel):
    """One of the author's other posts; copies from Medium often lose the URL."""

    title: str
    url: str | None = None


class Essay(BaseModel):
    """An essay as the author meant it, independent of where it came from."""

    title: str
    subtitle: str | None = None
    author: str | None = None
    published: date | None = None
    tags: list[str] = []
    canonical_url: str | None = None
    language: str | None = None
    slug: str | None = None
    blocks: list[Block] = []
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
        """The first paragraph's text: what a teaser is drawn from."""
        for block in self.blocks:
            if isinstance(block, Paragraph) and plain(block.content).strip():
                return plain(block.content).strip()
        return self.subtitle or ""

    def images(self) -> list[Image]:
        return [b for b in self.blocks if isinstance(b, Image)]


ListItem.model_rebuild()


def plain(content: Inline) -> str:
    """Inline runs as plain text, marks and links dropped."""
    return "".join(run.text for run in content)


def block_text(block: Block) -> str:
    """A block's text as a reader sees it, for previews, teasers and thread splitting."""
    if isinstance(block, Heading | Paragraph):
        return plain(block.content)
    if isinstance(block, Quote):
        return "\n".join(plain(p) for p in block.paragraphs)
    if isinstance(block, Code):
        return block.text
    if isinstance(block, Image):
        return block.caption or block.alt
    if isinstance(block, ListBlock):
        return "\n".join(list_item_texts(block))
    return ""


def list_item_texts(block: ListBlock) -> list[str]:
    """Every item's text, nested items flattened in reading order."""
    texts: list[str] = []
    for item in block.items:
        texts.append(plain(item.content))
        for child in item.children:
            texts.extend(list_item_texts(child))
    return texts


def slugify(text: str, max_length: int = 80) -> str:
    """A URL slug: ASCII letters, digits and hyphens, as WordPress and Ghost make them."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if not slug:
        slug = "essay"
    return slug[:max_length].rstrip("-")


def merge_runs(runs: Inline) -> Inline:
    """Join neighbouring runs that carry the same marks and link; drop empty ones."""
    merged: list[Run] = []
    for run in runs:
        if not run.text:
            continue
        if merged and merged[-1].marks == run.marks and merged[-1].href == run.href:
            # both halves are valid runs already: construct without validating again
            merged[-1] = Run.model_construct(
                text=merged[-1].text + run.text, marks=run.marks, href=run.href
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
        "promo": "\n\n".join(block_text(b) for b in essay.promo) or None,
        "related": [r.model_dump() for r in essay.related],
    }
