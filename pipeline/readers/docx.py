"""DOCX → Essay: mammoth turns Word's styles into HTML, the shared walker does the rest.

Word documents are zip archives from strangers, so the archive is checked before any XML
is parsed: it must hold `word/document.xml`, stay under 50 MB uncompressed and not
compress suspiciously well (a zip bomb). Metadata comes from `docProps/core.xml`.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import mammoth

from pipeline.document import Essay, plain
from pipeline.errors import ReadError
from pipeline.readers.html import parse_date, unique_tags
from pipeline.readers.html_blocks import BlockWalker, parse_html, text_of
from pipeline.readers.promo import split_promo

MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
# Word's XML compresses 5-20×; a bomb compresses thousands of times. Small archives are
# exempt because a tiny file of repeated markup can legitimately compress very well.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_FROM_BYTES = 1024 * 1024

# The title is marked so it can be told apart from a Heading 1; Heading N is then level N+1.
STYLE_MAP = """
p[style-name='Title'] => h1.docx-title:fresh
p[style-name='Subtitle'] => p.docx-subtitle:fresh
p[style-name='Quote'] => blockquote > p:fresh
p[style-name='Intense Quote'] => blockquote > p:fresh
p[style-name='Code'] => pre:separator('\\n')
p[style-name='HTML Preformatted'] => pre:separator('\\n')
r[style-name='HTML Code'] => code
"""
DOCX_HEADING_LEVELS = {"h1": 2, "h2": 3, "h3": 4, "h4": 5, "h5": 6, "h6": 6}

_NS = {
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
}


@dataclass
class CoreProperties:
    """The few fields of `docProps/core.xml` an essay uses."""

    title: str | None = None
    author: str | None = None
    created: date | None = None
    keywords: list[str] = field(default_factory=list)


def read(path: Path, data: bytes) -> Essay:
    """Read a Word document; `ReadError` for anything that is not a safe .docx."""
    archive = open_archive(path, data)
    core = core_properties(path, archive)
    result = mammoth.convert_to_html(
        io.BytesIO(data),
        style_map=STYLE_MAP,
        # embedded pictures would arrive as data: URIs, which essays never carry
        convert_image=mammoth.images.img_element(lambda image: {}),
    )
    soup = parse_html(result.value, path)
    root = soup.body or soup
    walker = BlockWalker(DOCX_HEADING_LEVELS)

    title_tag = root.select_one("h1.docx-title")
    if title_tag is None:  # no Title style: an opening Heading 1 is the title
        first = root.find(True, recursive=False)
        title_tag = first if first is not None and first.name == "h1" else None
    title = plain(walker.inline(title_tag)).strip() if title_tag else ""
    if title_tag:
        title_tag.decompose()
    subtitle_tag = root.select_one("p.docx-subtitle")
    subtitle = text_of(subtitle_tag)
    if subtitle_tag:
        subtitle_tag.decompose()

    blocks, promo = split_promo(walker.blocks(root))
    return Essay(
        title=title or core.title or path.stem,
        subtitle=subtitle or None,
        author=core.author,
        published=core.created,
        tags=core.keywords,
        blocks=blocks,
        promo=promo,
        source_format="docx",
    )


def open_archive(path: Path, data: bytes) -> zipfile.ZipFile:
    """The archive, after checking it is a Word document and not a zip bomb."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise ReadError(path, "not a Word document (not a readable .docx zip archive)") from None
    infos = archive.infolist()
    if "word/document.xml" not in {info.filename for info in infos}:
        raise ReadError(path, "not a Word document (the archive has no word/document.xml)")
    total = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise ReadError(
            path,
            f"the document unpacks to {total} bytes; the limit is {MAX_UNCOMPRESSED_BYTES}",
        )
    if total > RATIO_CHECK_FROM_BYTES and total > MAX_COMPRESSION_RATIO * max(packed, 1):
        raise ReadError(
            path, "the archive compresses suspiciously well (a zip bomb?); refusing to open it"
        )
    return archive


def core_properties(path: Path, archive: zipfile.ZipFile) -> CoreProperties:
    """Author, created date, keywords and title from `docProps/core.xml`, when present."""
    try:
        raw = archive.read("docProps/core.xml")
    except KeyError:
        return CoreProperties()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReadError(path, f"damaged Word document: {exc}") from None
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:  # core.xml never needs a DTD
        raise ReadError(path, "docProps/core.xml declares a DTD; refusing to parse it")
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError:
        return CoreProperties()

    def field_text(name: str) -> str | None:
        node = root.find(name, _NS)
        text = (node.text or "").strip() if node is not None else ""
        return text or None

    keywords = field_text("cp:keywords") or ""
    return CoreProperties(
        title=field_text("dc:title"),
        author=field_text("dc:creator"),
        created=parse_date(field_text("dcterms:created")),
        keywords=unique_tags(keywords.replace(";", ",").split(",")),
    )
