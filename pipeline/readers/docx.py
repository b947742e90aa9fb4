"""DOCX → Essay: mammoth turns Word's styles into HTML, the shared walker does the rest.

Embedded pictures have no address on the web, so each one is carried in the essay as a
`data:` URI (PNG, JPEG, GIF or WebP, each at most `MAX_IMAGE_BYTES`, all together at most
`MAX_IMAGES_BYTES`), with the alt text Word keeps; a picture over the limits, or in
another format, is left out. Footnotes and endnotes arrive from mammoth as `[n]` marks and
a list at the end; they are rewritten in the footnote convention the converter reads.

Word documents are zip archives from strangers, so the archive is checked before any XML
is parsed: it must hold `word/document.xml`, stay under 50 MB uncompressed, not compress
suspiciously well (a zip bomb), unpack without errors and declare no DTD in any XML part
(entity bombs, external entities). Metadata comes from `docProps/core.xml`.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers.expat import ExpatError

import mammoth

from pipeline.document import Essay, plain
from pipeline.errors import ReadError
from pipeline.readers.docx_media import EmbeddedPictures, attach_captions, rewrite_notes
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
p[style-name='Caption'] => p.docx-caption:fresh
p[style-name='Quote'] => blockquote > p:fresh
p[style-name='Intense Quote'] => blockquote > p:fresh
p[style-name='Code'] => pre:separator('\\n')
p[style-name='HTML Preformatted'] => pre:separator('\\n')
r[style-name='HTML Code'] => code
"""
DOCX_HEADING_LEVELS = {"h1": 2, "h2": 3, "h3": 4, "h4": 5, "h5": 6, "h6": 6}

# What a damaged archive raises while unpacking or parsing: a CRC or inflate failure, a
# truncated entry, XML that is not well-formed or names an unknown encoding.
DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, ExpatError, ValueError, LookupError, OSError)
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)

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
    checked = checked_copy(path, data)  # parsers see this copy, never `data` itself
    core = core_properties(path, zipfile.ZipFile(io.BytesIO(checked)))
    pictures = EmbeddedPictures()
    try:
        result = mammoth.convert_to_html(
            io.BytesIO(checked),
            style_map=STYLE_MAP,
            convert_image=mammoth.images.img_element(pictures.placeholder),
        )
    except DAMAGED as exc:  # a part that does not unpack, or XML that does not parse
        raise ReadError(path, f"damaged Word document ({exc})") from None
    soup = parse_html(result.value, path)
    root = soup.body or soup
    rewrite_notes(soup, root)
    attach_captions(soup, root)
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
    essay = Essay(
        title=title or core.title or path.stem,
        subtitle=subtitle or None,
        author=core.author,
        published=core.created,
        tags=core.keywords,
        blocks=blocks,
        footnotes=walker.footnotes,
        promo=promo,
        source_format="docx",
    )
    return pictures.embed(essay)


def checked_copy(
    path: Path, data: bytes, kind: str = "Word document", required: str | None = "word/document.xml"
) -> bytes:
    """A checked, uncompressed copy of the archive: a `kind` (holding `required`), not a bomb.

    Headers can lie about sizes, and zipfile's `read()` inflates a whole entry at once
    before cutting it to the declared size, so a 1 MB entry claiming 1 KB could take
    gigabytes of memory. Each entry is therefore read once, never past its declared size,
    and CRC-checked; the parsers only ever see the stored copy of what was read.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise ReadError(path, f"not a {kind} (not a readable zip archive)") from None
    infos = archive.infolist()
    if required is not None and required not in {info.filename for info in infos}:
        raise ReadError(path, f"not a {kind} (the archive has no {required})")
    total = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise ReadError(
            path,
            f"the archive unpacks to {total} bytes; the limit is {MAX_UNCOMPRESSED_BYTES}",
        )
    if total > RATIO_CHECK_FROM_BYTES and total > MAX_COMPRESSION_RATIO * max(packed, 1):
        raise ReadError(
            path, "the archive compresses suspiciously well (a zip bomb?); refusing to open it"
        )
    copy = io.BytesIO()
    with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as checked:
        for info in infos:
            if info.is_dir():
                continue
            try:
                with archive.open(info) as entry:
                    part = entry.read(info.file_size)  # bounded, whatever the entry holds
            except DAMAGED as exc:
                raise ReadError(
                    path, f"damaged {kind} ({info.filename} does not unpack: {exc})"
                ) from None
            # Word never writes a DTD; one is an entity bomb or an external-entity attack
            if info.filename.endswith((".xml", ".rels")) and any(
                marker in part for marker in _DTD_MARKERS
            ):
                raise ReadError(path, f"{info.filename} declares a DTD; refusing to parse it")
            checked.writestr(info.filename, part)
    return copy.getvalue()


def core_properties(path: Path, archive: zipfile.ZipFile) -> CoreProperties:
    """Author, created date, keywords and title from `docProps/core.xml`, when present."""
    try:
        raw = archive.read("docProps/core.xml")
    except KeyError:
        return CoreProperties()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReadError(path, f"damaged Word document: {exc}") from None
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
