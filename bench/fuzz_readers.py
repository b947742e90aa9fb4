"""Fuzz every reader: any bytes give an `Essay` or a `ReadError`, safe HTML, in bounded time.

`python -m bench.fuzz_readers --minutes 10` feeds hypothesis-generated inputs to each reader
(`markdown`, `medium_text`, `html`, `docx`, `feed`) and to the top-level `read_bytes`
dispatch, round-robin until the time is up, and writes `bench/reliability-fuzz.json`:
inputs tried per reader, failures counted with one example input (base64) per kind, and
the slowest input per reader. The inputs are structured, not only random bytes: Markdown with
front matter of every type (anchors, tags, bombs), HTML fragments with hostile tags and
attributes, Medium copies, DOCX archives built from random paragraphs and hyperlinks (and
zip and XML-entity bombs), RSS/Atom feeds, and mutations of the repository's own corpus.

A failure is any of:
- an exception other than `ReadError` (a reader crashing is a bug even where `read_bytes`
  would wrap it, because the operator then reads a Python error instead of a reason);
- rendered output of a returned essay that carries a script, an event handler, a `style`
  or a URL outside http(s)/mailto/relative (`unsafe_markup`), checked on the sanitised
  blog HTML, the Telegram HTML and the Markdown rendition as a CommonMark site shows it;
- one input taking longer than `SLOW_SECONDS`, or hanging past `HANG_SECONDS`.

tests/test_fuzz_readers.py runs the same properties in CI, a few hundred inputs per reader.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import hashlib
import io
import json
import re
import signal
import struct
import time
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from pipeline.document import Essay
from pipeline.errors import ReadError
from pipeline.readers import docx, feed, html, markdown, medium_text, read_bytes
from pipeline.readers.hygiene import INLINE_IMAGE
from pipeline.render.html import render_html
from pipeline.render.markdown import render_markdown
from pipeline.render.telegram import render_telegram_html

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "reliability-fuzz.json"
SLOW_SECONDS = 5.0  # one input taking longer than this is a failure
HANG_SECONDS = 30.0  # ... and past this it is interrupted and reported as a hang
REPRO_BYTES = 256 * 1024  # how much of a failing input the summary keeps

# --------------------------------------------------------------------- the properties


class Hang(BaseException):
    """Raised by the alarm; a BaseException so no reader's `except Exception` swallows it."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the body after `seconds` (main thread only; elsewhere no limit)."""

    def ring(signum: int, frame: Any) -> None:
        raise Hang

    try:
        previous = signal.signal(signal.SIGALRM, ring)
    except ValueError:  # not the main thread
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_SAFE_SCHEMES = {"http", "https", "mailto"}
_URL_IGNORED = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "poster", "background"}
_BAD_TAGS = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math",
    "style", "link", "meta", "base", "form", "input", "button", "textarea", "template",
}  # fmt: skip


class _MarkupAudit(HTMLParser):
    """Collects what a browser would treat as active content in a piece of HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BAD_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name == "style" and tag in {"th", "td"} and _CELL_ALIGN.fullmatch(value or ""):
                continue  # a table column's alignment, the one style a renderer writes
            if name.startswith("on") or name in {"style", "srcdoc", "srcset"}:
                self.problems.append(f"<{tag} {name}=>")
            elif tag == "img" and name == "src" and value and INLINE_IMAGE.match(value):
                continue  # a raster picture carried in the page (a Word document's)
            elif name in _URL_ATTRS and value is not None:
                scheme = _SCHEME.match(_URL_IGNORED.sub("", value))
                if scheme and scheme.group(1).lower() not in _SAFE_SCHEMES:
                    self.problems.append(f"<{tag} {name}={value[:60]!r}>")

    handle_startendtag = handle_starttag


_CELL_ALIGN = re.compile(r"text-align: ?(?:left|center|right);?")


def unsafe_markup(markup: str) -> list[str]:
    """Scripts, event handlers, styles and non-http(s)/mailto URLs in `markup`; [] is safe."""
    audit = _MarkupAudit()
    audit.feed(markup)
    audit.close()
    return audit.problems


_COMMONMARK = MarkdownIt("commonmark", {"html": True})  # how a Markdown platform shows it


def unsafe_renditions(essay: Essay) -> list[str]:
    """What each HTML-producing rendition of `essay` would put on a page, if unsafe."""
    blocks = [*essay.blocks, *essay.promo]
    renditions = {
        "html": render_html(blocks),
        "telegram": render_telegram_html(blocks),
        "markdown": _COMMONMARK.render(render_markdown(blocks)),
    }
    problems = [
        f"{kind}: {p}" for kind, markup in renditions.items() for p in unsafe_markup(markup)
    ]
    for url in [essay.canonical_url, *(link.url for link in essay.related)]:
        if url and unsafe_markup(f'<a href="{escape(url)}">'):
            problems.append(f"metadata URL {url[:60]!r}")
    return problems


def _read_one(reader: Callable[[Path, bytes], Essay]) -> Callable[[str, bytes], list[Essay]]:
    return lambda name, data: [reader(Path(name), data)]


READERS: dict[str, Callable[[str, bytes], list[Essay]]] = {
    "markdown": _read_one(markdown.read),
    "medium_text": _read_one(medium_text.read),
    "html": _read_one(html.read),
    "docx": _read_one(docx.read),
    "feed": lambda name, data: [entry.essay for entry in feed.read_feed(data)],
    "read_bytes": _read_one(read_bytes),
}


@dataclass
class Outcome:
    reader: str
    seconds: float
    result: str  # essay | read_error | failure
    problem: str | None = None


def check_input(reader: str, name: str, data: bytes) -> Outcome:
    """Run one input through one reader and judge the result against the properties."""
    started = time.perf_counter()
    problem: str | None = None
    result = "essay"
    try:
        with time_limit(HANG_SECONDS):
            essays = READERS[reader](name, data)
            problems = [p for essay in essays for p in unsafe_renditions(essay)]
        if problems:
            problem = "unsafe markup: " + "; ".join(problems[:5])
    except ReadError as exc:
        result = "read_error"
        if not exc.reason.strip():
            problem = "a ReadError without a reason"
    except Hang:
        problem = f"hang: no answer within {HANG_SECONDS:.0f} s"
    except RecursionError:
        problem = "RecursionError"
    except Exception as exc:
        problem = f"{type(exc).__name__}: {str(exc)[:300]}"
    seconds = time.perf_counter() - started
    if problem is None and seconds > SLOW_SECONDS:
        problem = f"slow: {seconds:.1f} s for one input of {len(data)} bytes"
    return Outcome(reader, seconds, "failure" if problem else result, problem)


# --------------------------------------------------------------------- the inputs

HOSTILE_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java&#x09;script:alert(1)",
    "&#106;avascript:alert(1)",
    "\x01javascript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "data:image/svg+xml,<svg onload=alert(1)>",
    "data:image/png;base64,iVBORw0KGgo=",
    "file:///etc/passwd",
    "//evil.example/x",
    "https://example.org/ok?a=1&b=2",
    "http://example.org/a_(b)",
    "mailto:writer@example.org",
    "relative/page.html",
    "#section",
    "",
]
HOSTILE_SNIPPETS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)><circle/></svg>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<div style='width: expression(alert(1))'>styled</div>",
    "<a href='javascript:alert(1)'>click</a>",
    "<a href=' java\tscript:alert(1)'>tab</a>",
    "<object data=javascript:alert(1)></object>",
    "<embed src=data:image/svg+xml,x>",
    "<math><mi xlink:href=javascript:alert(1)>m</mi></math>",
    "<form action=javascript:alert(1)><button formaction=javascript:alert(1)>b</button></form>",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>d</details>",
    "<base href=javascript:alert(1)//>",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    "<style>@import 'javascript:alert(1)';</style>",
    "<!-- <script>alert(1)</script> -->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<noscript><p title='</noscript><img src=x onerror=alert(1)>'></noscript>",
    "<a href=&#x6A;avascript:alert(1)>entity</a>",
    "<img src=`javascript:alert(1)`>",
    "<p>plain <b>bold</b> <i>it</i> <code>c</code></p>",
]
TAGS = [
    "p", "div", "span", "b", "strong", "i", "em", "code", "pre", "blockquote", "ul", "ol",
    "li", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "img", "a", "hr", "br",
    "table", "tr", "td", "th", "article", "main", "section", "header", "footer", "aside",
    "time", "cite", "kbd", "script", "style", "iframe", "svg", "object", "embed", "math",
    "form", "input", "noscript", "template", "video", "audio", "details", "summary", "nav",
]  # fmt: skip
ATTRIBUTES = [
    "href", "src", "data-src", "onerror", "onload", "onclick", "onmouseover", "style",
    "srcdoc", "srcset", "class", "id", "hidden", "alt", "title", "width", "height", "start",
    "datetime", "formaction", "xlink:href", "data-code-block-lang", "lang", "rel", "content",
]  # fmt: skip
CLASSES = ["graf", "graf--title", "graf--p", "p-name", "e-content", "h-entry", "p-canonical"]

text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
) | st.sampled_from(["Hello, world.", "Über – 日本 🚆", "a\u200bb", "\u202eevil", "&amp; &lt;"])
attribute_value = st.one_of(
    text,
    st.sampled_from(HOSTILE_URLS),
    st.sampled_from(["alert(1)", "width: expression(alert(1))", "1", "language-js", *CLASSES]),
)


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    @st.composite
    def build(draw: st.DrawFn) -> str:
        tag = draw(st.sampled_from(TAGS))
        attrs = draw(st.lists(st.tuples(st.sampled_from(ATTRIBUTES), attribute_value), max_size=3))
        rendered = "".join(f' {n}="{escape(v)}"' for n, v in attrs)
        inner = "".join(draw(st.lists(children, max_size=4)))
        closing = draw(st.sampled_from([f"</{tag}>", f"</{tag}>", ""]))  # sometimes unclosed
        return f"<{tag}{rendered}>{inner}{closing}"

    return build()


html_fragment = st.recursive(
    st.one_of(text.map(escape), st.sampled_from(HOSTILE_SNIPPETS)), _element, max_leaves=25
)


@st.composite
def html_documents(draw: st.DrawFn) -> bytes:
    head = draw(
        st.sampled_from(
            [
                "",
                "<!doctype html><html><head><title>T</title></head><body>",
                "<html lang='en'><head><meta name='description' content='d'>"
                "<link rel='canonical' href='javascript:alert(1)'></head><body>",
                "<html><head><meta charset='windows-1252'></head><body>",
                "<html><body><article class='h-entry'><h3 class='graf graf--title'>T</h3>"
                "<section data-field='body' class='e-content'>",
            ]
        )
    )
    body = "".join(draw(st.lists(html_fragment, min_size=1, max_size=6)))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    return (head + body).encode(encoding, errors="replace")


yaml_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    text,
    st.dates(),
    st.datetimes(),
    st.sampled_from(["2025-01-31", "2025-13-45", "99999-01-01", "garbage", "2025-06-02T08:00"]),
)
yaml_value = st.recursive(
    yaml_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
FRONT_MATTER_KEYS = [
    "title", "subtitle", "author", "slug", "date", "published", "publish_at", "tags",
    "canonical_url", "language", "lang", "targets", "layout", "draft",
]  # fmt: skip
RAW_FRONT_MATTER = [
    "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]",
    "title: !!python/object/apply:os.system ['true']",
    "title: [unclosed",
    "- a list\n- not a mapping",
    "title: " + "[" * 500 + "]" * 500,
    "? complex key\n: value",
    "title: T\ntitle: duplicate",
    "title: T\ntargets: {site: {after: site}}",
    "title: T\ntargets: {site: {offset: 99999999999h, slots: [x]}}",
    "canonical_url: javascript:alert(1)",
    'title: "\\x00 nul"',
]


@st.composite
def front_matter(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 4)) == 0:
        return draw(st.sampled_from(RAW_FRONT_MATTER))
    meta = draw(st.dictionaries(st.sampled_from(FRONT_MATTER_KEYS) | text, yaml_value, max_size=6))
    try:
        return yaml.safe_dump(meta, allow_unicode=True)
    except yaml.YAMLError:
        return "title: fallback"


@st.composite
def markdown_line(draw: st.DrawFn) -> str:
    words = draw(text)
    url = draw(st.sampled_from(HOSTILE_URLS))
    forms = [
        words,
        "#" * draw(st.integers(1, 7)) + " " + words,
        f"- {words}",
        f"  * {words}",
        f"{draw(st.integers(0, 999))}. {words}",
        f"> {words}",
        "> " * draw(st.integers(1, 60)) + words,
        f"[{words}]({url})",
        f'![{words}]({url} "caption")',
        f"<{url}>",
        f"[ref][r]\n\n[r]: {url}",
        f"**{words}** _{words}_ `{words}`",
        f"```{words}\n{words}\n```",
        f"    indented {words}",
        "***",
        draw(html_fragment),
        draw(st.sampled_from(HOSTILE_SNIPPETS)),
        "[" * draw(st.integers(1, 200)) + words,
        "*" * draw(st.integers(1, 200)) + words,
        f"Support me on [Patreon]({url})",
    ]
    return draw(st.sampled_from(forms))


@st.composite
def markdown_documents(draw: st.DrawFn) -> bytes:
    parts = []
    if draw(st.booleans()):
        parts.append(f"---\n{draw(front_matter())}\n---\n")
    parts.extend(draw(st.lists(markdown_line(), min_size=0, max_size=12)))
    source = "\n\n".join(parts) if draw(st.booleans()) else "\n".join(parts)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return source.replace("\n", newline).encode(encoding, errors="surrogatepass")


MEDIUM_LINES = [
    "Member-only story",
    "Ana Ribeiro",
    "Follow",
    "6 min read·Jan 31, 2025",
    "12 min read",
    "·",
    "Feb 30, 2025",
    "Listen",
    "Share",
    "1.2K",
    "34",
    "Top highlight",
    "--",
    "Written by Ana Ribeiro",
    "1.2K followers",
    "Responses (3)",
    "More from Ana Ribeiro",
    "Recommended from Medium",
    "Help Status About Careers",
    "Night Trains | Patreon",
    "1. Planning the Route",
    "• Rolling stock: costly.",
    "    ◦ nested",
    "Scrambling for Warm Bodies: the start.",
    "Published in Slow Travel Weekly",
]


@st.composite
def medium_documents(draw: st.DrawFn) -> bytes:
    lines = draw(
        st.lists(
            st.one_of(
                st.sampled_from(MEDIUM_LINES),
                text,
                markdown_line(),
                st.just(""),
            ),
            max_size=25,
        )
    )
    return "\n".join([draw(text), *lines]).encode("utf-8", errors="surrogatepass")


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
    'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    '"application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxml'
    'formats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"'
    "/></Relationships>"
)
STYLES = ["Title", "Subtitle", "Heading1", "Heading2", "Heading3", "Quote", "Code", "Normal"]
STYLES_XML = (
    f'<?xml version="1.0" encoding="UTF-8"?><w:styles {W}>'
    + "".join(
        f'<w:style w:type="paragraph" w:styleId="{s}"><w:name w:val="'
        f'{s.replace("Heading", "heading ")}"/></w:style>'
        for s in STYLES
    )
    + "</w:styles>"
)
ENTITY_BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + f"]><w:document {W}><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
)


def zip_bomb(gibibytes: int, name: str = "word/document.xml", declared: int = 0) -> bytes:
    """A ~1 MB zip whose one entry `name` inflates to `gibibytes` GiB of spaces.

    Its headers say so honestly, or claim `declared` bytes when given (a lying bomb).
    Deflate blocks ended by a full flush are self-contained, so one compressed MiB
    repeated is a valid stream of that many MiB; no gigabyte is ever held in memory.
    """
    mib = b" " * (1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    count = gibibytes * 1024
    data = block * count + b"\x03\x00"  # an empty final block ends the stream
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(mib, crc)
    encoded = name.encode()
    size = declared or count << 20
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size,
                        len(encoded), 0)  # fmt: skip
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc,
                          len(data), size, len(encoded), 0, 0, 0, 0, 0, 0)  # fmt: skip
    directory_at = len(local) + len(encoded) + len(data)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(encoded),
                      directory_at, 0)  # fmt: skip
    return local + encoded + data + central + encoded + end


def with_document(archive: bytes) -> bytes:
    """`archive` plus a minimal word/document.xml, so it passes for a Word document."""
    buffer = io.BytesIO(archive)
    with zipfile.ZipFile(buffer, "a") as extended:
        extended.writestr("word/document.xml", f"<w:document {W}/>")
    return buffer.getvalue()


@functools.cache
def zip_bombs() -> tuple[bytes, ...]:
    """Honest (over the size limit) and lying (claiming 1000 bytes) 1 GiB bombs."""
    return (
        zip_bomb(1),
        zip_bomb(1, declared=1000),
        with_document(zip_bomb(1, "docProps/core.xml", declared=1000)),
        with_document(zip_bomb(1, "[Content_Types].xml", declared=1000)),
    )


def zipped(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def xml_text(value: str) -> str:
    """Text as XML character data; characters XML 1.0 forbids are dropped."""
    allowed = "".join(c for c in value if c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff"))
    return escape(allowed, quote=True)


@st.composite
def docx_paragraph(draw: st.DrawFn, links: list[str]) -> str:
    style = draw(st.sampled_from([*STYLES, "ListParagraph", "Unknown"]))
    runs = []
    for _ in range(draw(st.integers(1, 4))):
        props = "".join(draw(st.lists(st.sampled_from(["<w:b/>", "<w:i/>"]), max_size=2)))
        words = xml_text(draw(text))
        run = f'<w:r><w:rPr>{props}</w:rPr><w:t xml:space="preserve">{words}</w:t></w:r>'
        if draw(st.integers(0, 3)) == 0:
            links.append(draw(st.sampled_from(HOSTILE_URLS)))
            run = f'<w:hyperlink r:id="rIdL{len(links)}">{run}</w:hyperlink>'
        runs.append(run)
    numbering = '<w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>'
    listed = numbering if draw(st.booleans()) else ""
    return f'<w:p><w:pPr><w:pStyle w:val="{style}"/>{listed}</w:pPr>{"".join(runs)}</w:p>'


@st.composite
def docx_documents(draw: st.DrawFn) -> bytes:
    """A Word archive from random paragraphs, or one of the hostile archives."""
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(st.sampled_from(zip_bombs()))
    if choice == 1:  # XML entities expanding to a billion "lol"s
        return zipped({"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": PACKAGE_RELS,
                       "word/document.xml": ENTITY_BOMB})  # fmt: skip
    if choice == 2:  # random entries
        entries = draw(st.dictionaries(st.sampled_from(
            ["word/document.xml", "docProps/core.xml", "[Content_Types].xml", "_rels/.rels",
             "word/_rels/document.xml.rels", "word/styles.xml", "other.bin"]),
            st.binary(max_size=200), max_size=5))  # fmt: skip
        return zipped(entries)
    links: list[str] = []
    paragraphs = "".join(draw(st.lists(docx_paragraph(links), max_size=10)))
    document = f"<w:document {W} {R}><w:body>{paragraphs}</w:body></w:document>"
    rels = "".join(
        f'<Relationship Id="rIdL{i}" Type="http://schemas.openxmlformats.org/officeDocument/'
        f'2006/relationships/hyperlink" Target="{xml_text(url)}" TargetMode="External"/>'
        for i, url in enumerate(links, start=1)
    )
    core = (
        '<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/'
        'package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/">'
        f"<dc:title>{xml_text(draw(text))}</dc:title><dc:creator>{xml_text(draw(text))}"
        f"</dc:creator><cp:keywords>{xml_text(draw(text))}</cp:keywords><dcterms:created>"
        f"{xml_text(draw(st.sampled_from(['2025-01-31T00:00:00Z', 'garbage', '2025-13-45'])))}"
        "</dcterms:created></cp:coreProperties>"
    )
    files: dict[str, bytes | str] = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": PACKAGE_RELS,
        "word/document.xml": document,
        "word/styles.xml": STYLES_XML,
        "word/_rels/document.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://'
        f'schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>',
        "docProps/core.xml": core,
    }
    if draw(st.integers(0, 5)) == 0:  # damage one part
        part = draw(st.sampled_from(sorted(files)))
        files[part] = draw(st.binary(max_size=100))
    return zipped(files)


@st.composite
def feed_documents(draw: st.DrawFn) -> bytes:
    entries = []
    atom = draw(st.booleans())
    for _ in range(draw(st.integers(0, 4))):
        title = xml_text(draw(text))
        link = xml_text(draw(st.sampled_from(HOSTILE_URLS)))
        content = escape(draw(html_fragment)) if draw(st.booleans()) else ""
        date = xml_text(draw(st.sampled_from(["Fri, 31 Jan 2025 07:45:00 GMT", "garbage", ""])))
        if atom:
            entries.append(
                f"<entry><title>{title}</title><link href='{link}'/><id>{link}</id>"
                f"<updated>{date}</updated><content type='html'>{content}</content>"
                f"<category term='{title}'/></entry>"
            )
        else:
            entries.append(
                f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
                f"<pubDate>{date}</pubDate><content:encoded>{content}</content:encoded>"
                f"<description>{content}</description></item>"
            )
    generator = draw(st.sampled_from(["Medium", "Hugo", ""]))
    if atom:
        body = (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>F</title><generator>{generator}</generator>{''.join(entries)}</feed>"
        )
    else:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content='
            '"http://purl.org/rss/1.0/modules/content/"><channel><title>F</title>'
            f"<generator>{generator}</generator>{''.join(entries)}</channel></rss>"
        )
    return body.encode("utf-8", errors="surrogatepass")


def _corpus(*patterns: str) -> list[bytes]:
    files = sorted(p for pattern in patterns for p in ROOT.glob(pattern) if p.is_file())
    return [p.read_bytes() for p in files]


CORPUS = {
    "markdown": _corpus("examples/*.md", "tests/golden/readers/*.md"),
    "medium_text": _corpus("tests/golden/readers/*.txt"),
    "html": _corpus("tests/golden/html/*.html"),
    "docx": _corpus("tests/golden/docx/*.docx"),
    "feed": _corpus("tests/golden/feed/*.xml"),
}


@st.composite
def mutated(draw: st.DrawFn, corpus: list[bytes]) -> bytes:
    """A corpus file with a few byte-level edits: flips, inserts, deletions, splices."""
    data = bytearray(draw(st.sampled_from(corpus)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.integers(0, 4))
        at = draw(st.integers(0, len(data)))
        if op == 0 and data:
            data[min(at, len(data) - 1)] ^= 1 << draw(st.integers(0, 7))
        elif op == 1:
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == 2:
            del data[at : at + draw(st.integers(1, 64))]
        elif op == 3:
            data = data[:at]
        else:
            other = draw(st.sampled_from(corpus))
            data[at:at] = other[: draw(st.integers(0, len(other)))]
    return bytes(data)


@st.composite
def docx_with_mutated_document(draw: st.DrawFn) -> bytes:
    """A committed .docx whose document.xml had a few byte edits (the zip stays readable)."""
    source = zipfile.ZipFile(io.BytesIO(draw(st.sampled_from(CORPUS["docx"]))))
    files: dict[str, bytes | str] = {info.filename: source.read(info) for info in source.infolist()}
    files["word/document.xml"] = draw(mutated([bytes(files["word/document.xml"])]))
    return zipped(files)


random_bytes = st.binary(max_size=2048)

STRATEGIES: dict[str, st.SearchStrategy[bytes]] = {
    "markdown": st.one_of(markdown_documents(), mutated(CORPUS["markdown"]), random_bytes),
    "medium_text": st.one_of(medium_documents(), mutated(CORPUS["medium_text"]), random_bytes),
    "html": st.one_of(html_documents(), mutated(CORPUS["html"]), random_bytes),
    "docx": st.one_of(
        docx_documents(), docx_with_mutated_document(), mutated(CORPUS["docx"]), random_bytes
    ),
    "feed": st.one_of(feed_documents(), mutated(CORPUS["feed"]), random_bytes),
}
NAMES = ["essay.md", "essay.txt", "essay.html", "essay.docx", "essay", "ESSAY.MD", "essay.pdf"]
NAMED: dict[str, st.SearchStrategy[tuple[str, bytes]]] = {
    reader: st.tuples(st.just(f"fuzz{suffix}"), strategy)
    for reader, strategy, suffix in [
        ("markdown", STRATEGIES["markdown"], ".md"),
        ("medium_text", STRATEGIES["medium_text"], ".txt"),
        ("html", STRATEGIES["html"], ".html"),
        ("docx", STRATEGIES["docx"], ".docx"),
        ("feed", STRATEGIES["feed"], ".xml"),
    ]
}
NAMED["read_bytes"] = st.tuples(st.sampled_from(NAMES), st.one_of(*STRATEGIES.values()))


# --------------------------------------------------------------------- the timed run


@dataclass
class Tally:
    tried: int = 0
    essays: int = 0
    read_errors: int = 0
    failed: int = 0
    slowest_ms: float = 0.0
    slowest_input: str = ""
    examples: list[dict[str, Any]] = field(default_factory=list)  # one per kind of failure

    def add(self, outcome: Outcome, name: str, data: bytes) -> None:
        self.tried += 1
        self.essays += outcome.result == "essay"
        self.read_errors += outcome.result == "read_error"
        ms = outcome.seconds * 1000
        if ms > self.slowest_ms:
            digest = hashlib.sha256(data).hexdigest()[:12]
            self.slowest_ms, self.slowest_input = ms, f"{name}, {len(data)} bytes, sha {digest}"
        if outcome.problem is None:
            return
        self.failed += 1
        kind = outcome.problem.split(":")[0]
        if len(self.examples) < 20 and kind not in {e["kind"] for e in self.examples}:
            self.examples.append(
                {
                    "kind": kind,
                    "problem": outcome.problem,
                    "name": name,
                    "bytes": len(data),
                    "input_base64": base64.b64encode(data[:REPRO_BYTES]).decode(),
                    "truncated": len(data) > REPRO_BYTES,
                }
            )


def run_batch(reader: str, tally: Tally, examples: int, batch_seed: int) -> None:
    """`examples` generated inputs through `reader`, recorded in `tally` (never raises)."""

    @seed(batch_seed)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(NAMED[reader])
    def batch(named: tuple[str, bytes]) -> None:
        name, data = named
        tally.add(check_input(reader, name, data), name, data)

    batch()


def fuzz(
    minutes: float, batch_size: int = 50, first_seed: int = 0, readers: list[str] | None = None
) -> dict[str, Any]:
    """Round-robin over the readers until `minutes` have passed; the JSON summary."""
    deadline = time.monotonic() + minutes * 60
    tallies = {reader: Tally() for reader in readers or READERS}
    started = time.monotonic()
    round_no = 0
    while time.monotonic() < deadline:
        for reader, tally in tallies.items():
            if time.monotonic() >= deadline:
                break
            run_batch(reader, tally, batch_size, first_seed + round_no * 100 + len(reader))
        round_no += 1
    summary = {
        reader: {
            "inputs_tried": t.tried,
            "essays": t.essays,
            "read_errors": t.read_errors,
            "failures": t.failed,
            "slowest_ms": round(t.slowest_ms, 1),
            "slowest_input": t.slowest_input,
            "failure_examples": t.examples,
        }
        for reader, t in tallies.items()
    }
    return {
        "command": f"python -m bench.fuzz_readers --minutes {minutes:g}",
        "seconds": round(time.monotonic() - started, 1),
        "first_seed": first_seed,
        "inputs_tried": sum(r["inputs_tried"] for r in summary.values()),
        "failures": sum(r["failures"] for r in summary.values()),
        "slowest_ms": max(r["slowest_ms"] for r in summary.values()),
        "slow_limit_s": SLOW_SECONDS,
        "readers": summary,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0, help="first hypothesis seed")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--readers", nargs="*", choices=sorted(READERS), help="default: all")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # bs4 and lxml warn about odd markup: that is the input
    summary = fuzz(args.minutes, first_seed=args.seed, readers=args.readers)
    args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    brief = {k: v for k, v in summary.items() if k != "readers"}
    brief["per_reader"] = {
        name: {k: v for k, v in r.items() if k != "failure_examples"}
        for name, r in summary["readers"].items()
    }
    print(json.dumps(brief, indent=2))


if __name__ == "__main__":
    main()
