"""What a reader profile hands the generic HTML converter: a cleaned body and the metadata.

A profile knows one kind of file (a Google Docs export, a Substack post page); it rewrites
that file's markup into plain HTML (marks as `<b>`/`<i>`/`<s>`/`<sup>`/`<sub>`, real
nested lists, footnotes in the shape of `footnote_html`) and reads the metadata the page
carries. The converter that turns the body into blocks stays one for every kind of file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bs4 import Tag


@dataclass
class PageMeta:
    """The essay's metadata as the page states it; empty fields fall back to the body."""

    title: str = ""
    subtitle: str | None = None
    author: str | None = None
    published: date | None = None
    canonical_url: str | None = None
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    slug: str | None = None


@dataclass
class Profiled:
    """A normalised body (`root`, ready for the converter), its metadata, and its origin."""

    root: Tag
    meta: PageMeta
    source_format: str
