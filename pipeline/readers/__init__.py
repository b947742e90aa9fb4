"""Turn a file into an `Essay`, choosing the reader by content first, extension second.

Every reader is a pure function `(path, data: bytes) -> Essay`; this module is the only
place that opens files, enforces the size limit and turns any failure into `ReadError`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipeline.document import Essay
from pipeline.errors import ReadError
from pipeline.readers.hygiene import clean_essay

Reader = Callable[[Path, bytes], Essay]

MAX_INPUT_BYTES = 20 * 1024 * 1024


def decode_text(path: Path, data: bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM) or UTF-16 with a BOM; CRLF folded to LF."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ReadError(
                path,
                f"starts like UTF-16 text but is not (bad bytes at offset {exc.start}); "
                "save it as UTF-8",
            ) from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ReadError(
                path, f"not valid UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8"
            ) from None
    if "\x00" in text:
        raise ReadError(path, "binary data, not a text document")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def choose_reader(path: Path, data: bytes) -> Reader:
    """Pick the reader from the file's first bytes, falling back to its extension.

    Only the chosen reader is imported: the Markdown path never loads an HTML parser.
    """
    suffix = path.suffix.lower()
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if data.startswith(b"PK\x03\x04"):
        if suffix in {".docx", ""} or b"word/" in data[:4096]:
            from pipeline.readers import docx

            return docx.read
        if suffix == ".zip":  # Google Docs' "Web page (.html, zipped)"
            from pipeline.readers import zipped_page

            return zipped_page.read
        raise ReadError(path, "a zip archive that is not a Word document")
    if suffix == ".docx":
        raise ReadError(path, "has a .docx name but is not a Word document (not a zip archive)")
    looks_like_html = head.startswith(
        (b"<!doctype html", b"<html", b"<article", b"<body", b"<main")
    )
    if looks_like_html or suffix in {".html", ".htm"}:
        from pipeline.readers import html

        return html.read
    if suffix in {".md", ".markdown", ".mdown"} or head.startswith(b"---"):
        from pipeline.readers import markdown

        return markdown.read
    if suffix in {".txt", ".text", ""}:
        from pipeline.readers import medium_text

        return medium_text.read
    raise ReadError(path, f"unsupported file type {suffix!r}; use .md, .txt, .html, .zip or .docx")


def read_bytes(path: Path, data: bytes) -> Essay:
    """Read an essay from bytes already in memory (the inbox reads once, hashes, then parses)."""
    if not data.strip():
        raise ReadError(path, "the file is empty")
    if len(data) > MAX_INPUT_BYTES:
        raise ReadError(
            path, f"the file is {len(data)} bytes; the limit is {MAX_INPUT_BYTES} bytes"
        )
    reader = choose_reader(path, data)
    try:
        essay = reader(path, data)
    except ReadError:
        raise
    except Exception as exc:  # any parser failure becomes one clear error type
        raise ReadError(path, f"could not be parsed: {exc}") from exc
    essay = clean_essay(essay)
    if not essay.title.strip():
        raise ReadError(path, "no title found (give it a first line, a front-matter title or h1)")
    return essay


def read_file(path: Path | str) -> Essay:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise ReadError(path, f"the file is {size} bytes; the limit is {MAX_INPUT_BYTES} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(path, f"cannot be opened: {exc.strerror}") from None
    return read_bytes(path, data)
