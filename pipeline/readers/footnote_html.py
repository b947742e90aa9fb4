"""The one footnote shape in HTML that the generic converter reads, and helpers to write it.

Every source marks footnotes its own way (Substack's `footnote-anchor`, Google Docs'
`ftnt_ref`, mammoth's `footnote-ref`); each reader profile rewrites them into this shape,
so the converter knows one:

    reference  <sup class="footnote-ref" id="fnref-LABEL"><a href="#fn-LABEL">N</a></sup>
    notes      <section class="footnotes"><ol><li id="fn-LABEL">…</li></ol></section>
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, Tag

_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def label_of(raw: str) -> str:
    """A label safe in an id and a fragment: "[1]" → "1", "note 4" → "note-4"."""
    return _LABEL_UNSAFE.sub("-", raw.strip().strip("[]")).strip("-") or "note"


def note_ref(soup: BeautifulSoup, label: str, number: str) -> Tag:
    """A reference in the convention's shape."""
    sup = soup.new_tag("sup", attrs={"class": "footnote-ref", "id": f"fnref-{label}"})
    anchor = soup.new_tag("a", href=f"#fn-{label}")
    anchor.string = number
    sup.append(anchor)
    return sup


@dataclass
class NoteSection:
    """Notes gathered in order; `tag()` writes the `<section class="footnotes">`."""

    soup: BeautifulSoup
    notes: list[tuple[str, list[Tag]]] = field(default_factory=list)

    def add(self, label: str, blocks: list[Tag]) -> None:
        """A note's content, as block elements (paragraphs, lists) already detached."""
        self.notes.append((label, blocks))

    def tag(self) -> Tag:
        section = self.soup.new_tag("section", attrs={"class": "footnotes"})
        listing = self.soup.new_tag("ol")
        section.append(listing)
        for label, blocks in self.notes:
            item = self.soup.new_tag("li", id=f"fn-{label}")
            for block in blocks:
                item.append(block)
            listing.append(item)
        return section

    def append_to(self, root: Tag) -> None:
        """Add the section at the end of `root`, when there are notes."""
        if self.notes:
            root.append(self.tag())


def as_paragraph(soup: BeautifulSoup, content: list) -> Tag:
    """Inline nodes wrapped in one `<p>` (a note written as a single line)."""
    paragraph = soup.new_tag("p")
    for node in content:
        paragraph.append(node)
    return paragraph
