"""Text hygiene: no reader lets a forbidden character or a dangerous link through.

The property: any text with control characters, through any reader (Markdown, a Medium
copy, HTML, a Word document, a feed), gives an essay without forbidden characters, whose
HTML rendering and whose static-site Atom feed parse as well-formed XML.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from connectors.base import Account, MemoryJournal, RenderContext
from connectors.static_site import StaticSite
from pipeline.document import Essay
from pipeline.errors import ReadError
from pipeline.readers import read_bytes
from pipeline.readers.feed import read_feed
from pipeline.readers.hygiene import FORBIDDEN, clean_essay, clean_href, clean_src, clean_text
from pipeline.render.html import render_html

GOLDEN_DOCX = Path(__file__).parent / "golden" / "docx" / "heading-as-title.docx"
HOSTILE = "\x00\x01\x08\x0b\x0c\x0e\x1b\x1f\x7f\x80\x85\x9f\ufeff\ufffc\ufffe\uffff"
# what XML 1.0 allows in a document: a Word part may hold C1 controls and U+FFFC, not C0
XML_HOSTILE = "\x7f\x80\x85\x9f\ufeff\ufffc"


def words_with(hostile: str) -> st.SearchStrategy[str]:
    alphabet = st.sampled_from([*hostile, *"ab cé漢🙂\t.-"])
    return st.text(alphabet, min_size=1, max_size=40)


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings(v)]
    return []


_VOID = re.compile(r"<(area|br|col|embed|hr|img|input|source|wbr)\b([^>]*?)\s*/?>")


def as_xml_syntax(body: str) -> str:
    """HTML's void elements written as XML writes them (`<img …/>`), nothing else changed:
    the one difference between well-formed HTML and XML that is not an error."""
    return _VOID.sub(r"<\1\2/>", body)


def assert_publishable(essay: Essay, tmp: Path) -> None:
    """No forbidden character anywhere; the HTML and the Atom feed are well-formed XML."""
    for text in strings(essay.model_dump(mode="json")):
        assert not FORBIDDEN.search(text), repr(text)
    body = render_html([*essay.blocks, *essay.promo])
    etree.fromstring(f"<div>{as_xml_syntax(body)}</div>".encode())  # raises on ill-formed XML
    site = StaticSite(Account(name="site", platform="static_site", home=str(tmp)))
    draft = StaticSite.render(essay, RenderContext(target="site"))
    site.publish(draft, "key", MemoryJournal())
    etree.parse(str(tmp / "site" / "feed.atom"))


def check_publishable(path: str, data: bytes) -> None:
    """Read through the one entry point; a clear refusal is an acceptable answer too."""
    try:
        essay = read_bytes(Path(path), data)
    except ReadError:
        return
    with _tmp() as tmp:
        assert_publishable(essay, tmp)


FUZZ = settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@FUZZ
@given(words_with(HOSTILE), words_with(HOSTILE))
def test_markdown_with_control_characters_publishes_clean_xml(title: str, words: str) -> None:
    text = f"# T{title}\n\n{words} **{words}** [link{words}](https://e.org/a{words})\n\n- {words}\n"
    check_publishable("fuzz.md", text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(words_with(HOSTILE), words_with(HOSTILE))
def test_plain_text_and_medium_copies_with_control_characters_publish_clean_xml(
    title: str, words: str
) -> None:
    for text in (
        f"T{title}\n\n{words}\n\n• {words}\n",
        f"T{title}\n\nAna Ribeiro\n\n5 min read · Jan 3, 2025\n\n{words}: {words} more.\n",
    ):
        check_publishable("fuzz.txt", text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(words_with(HOSTILE), words_with(HOSTILE))
def test_html_with_control_characters_publishes_clean_xml(title: str, words: str) -> None:
    escaped = html.escape(words)
    pages = (
        f"<html><body><h1>T{html.escape(title)}</h1><p>{escaped}<a href='https://e.org/"
        f"{escaped}'>{escaped}</a></p><img src='https://e.org/i.png' alt='{escaped}'>"
        "</body></html>",
        f'<html><head><style>.c1{{font-weight:700}}</style></head><body class="doc-content">'
        f'<p class="title">T{html.escape(title)}</p><p><span class="c1">{escaped}</span></p>'
        f"</body></html>",
        f'<html><body><div class="body markup"><p>{escaped}<a class="footnote-anchor" '
        f'href="#footnote-1" id="footnote-anchor-1">1</a></p></div></body></html>',
    )
    for page in pages:
        check_publishable("fuzz.html", page.encode("utf-8", "surrogatepass"))


@settings(FUZZ, max_examples=15)
@given(words_with(XML_HOSTILE))
def test_word_documents_with_control_characters_publish_clean_xml(words: str) -> None:
    source = zipfile.ZipFile(GOLDEN_DOCX)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                data = data.replace(
                    b"Every station has a sound.", html.escape(words).encode("utf-8")
                )
            copy.writestr(info, data)
    check_publishable("fuzz.docx", out.getvalue())


@FUZZ
@given(words_with(HOSTILE), words_with(HOSTILE))
def test_feeds_with_control_characters_publish_clean_xml(title: str, words: str) -> None:
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>c</title>'
        f"<item><title>T{html.escape(title)}</title><link>https://e.org/p?utm_source=rss</link>"
        f"<description><![CDATA[<p>{html.escape(words)}</p>]]></description></item>"
        "</channel></rss>"
    ).encode("utf-8", "surrogatepass")
    try:
        entries = read_feed(feed)
    except ReadError:
        return
    for entry in entries:
        assert entry.essay.canonical_url in (None, "https://e.org/p")
        with _tmp() as tmp:
            assert_publishable(entry.essay, tmp)


class _tmp:
    """A fresh folder per example (hypothesis runs many examples in one test call)."""

    def __enter__(self) -> Path:
        import tempfile

        self._dir = tempfile.TemporaryDirectory()
        return Path(self._dir.name)

    def __exit__(self, *exc: object) -> None:
        self._dir.cleanup()


# the pieces


def test_clean_text_removes_forbidden_characters_and_keeps_tab_newline_and_emoji() -> None:
    assert clean_text("a\x00b\x1bc\x7fd\x85e\ufeff\ufffcf\ufffe\uffff") == "abcdef"
    assert clean_text("tab\there\nline\r\nnext\rlast 🙂 漢") == "tab\there\nline\nnext\nlast 🙂 漢"


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("https://e.org/a b", "https://e.org/a%20b"),
        ('https://e.org/"q"', "https://e.org/%22q%22"),
        ("https://e.org/a|b", "https://e.org/a%7Cb"),
        ("https://e.org/a%20b", "https://e.org/a%20b"),  # an existing escape is kept
        ("  https://e.org/x\x00  ", "https://e.org/x"),
        ("javascript:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        ("data:text/html,<script>", None),
        ("vbscript:x", None),
        ("mailto:ana@example.org", "mailto:ana@example.org"),
        ("/relative/page", "/relative/page"),
        ("https://e.org/p?utm_source=x&utm_medium=y&id=7", "https://e.org/p?id=7"),
        ("https://e.org/p?id=7&fbclid=abc", "https://e.org/p?id=7"),
        ("https://e.org/p?q=a%2Bb&id=1", "https://e.org/p?q=a%2Bb&id=1"),  # untouched
        ("https://pub.substack.com/p/x?r=abc12&utm_medium=ios", "https://pub.substack.com/p/x"),
        ("https://e.org/p?r=keep", "https://e.org/p?r=keep"),
        ("https://pub.substack.com/p/x?action=share", None),
        ("https://twitter.com/intent/tweet?text=x", None),
        ("https://www.facebook.com/sharer/sharer.php?u=x", None),
    ],
)
def test_clean_href_encodes_untracks_and_refuses(href: str, expected: str | None) -> None:
    assert clean_href(href) == expected


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("https://e.org/i.png", "https://e.org/i.png"),
        ("images/image 1.png", "images/image%201.png"),
        ("data:image/png;base64,iVBORw0KGgo=", "data:image/png;base64,iVBORw0KGgo="),
        ("data:image/svg+xml;base64,PHN2Zz4=", None),
        ("data:text/html;base64,PHNjcmlwdD4=", None),
        ("javascript:alert(1)", None),
    ],
)
def test_clean_src_allows_web_images_and_raster_data_only(src: str, expected: str | None) -> None:
    assert clean_src(src) == expected


def test_clean_essay_returns_the_same_essay_when_nothing_needs_cleaning() -> None:
    essay = read_bytes(Path("a.md"), b"# Title\n\nPlain [words](https://e.org/x).\n")
    assert clean_essay(essay) is essay


def test_an_image_whose_source_is_refused_is_left_out_and_empty_runs_go() -> None:
    essay = Essay.model_validate(
        {
            "title": "T\x00",
            "blocks": [
                {"type": "image", "src": "javascript:x", "alt": "a"},
                {"type": "paragraph", "content": [{"text": "\ufffc"}, {"text": "kept"}]},
            ],
        }
    )
    cleaned = clean_essay(essay)
    assert cleaned.title == "T"
    assert [b.type for b in cleaned.blocks] == ["paragraph"]
    assert [r.text for r in cleaned.blocks[0].content] == ["kept"]


def test_a_title_made_only_of_control_characters_is_a_clear_read_error() -> None:
    with pytest.raises(ReadError, match="no title"):
        read_bytes(Path("a.md"), b"# \x01\x02\n\nbody\n")


def test_every_reader_passes_through_the_one_hygiene_pass() -> None:
    text = "Title\x0b\n\nText\ufffc\x07 with [a link](https://e.org/a|b?utm_source=x).\n"
    essay = read_bytes(Path("a.txt"), text.encode())
    assert essay.title == "Title"
    runs = essay.blocks[0].content
    assert "".join(r.text for r in runs) == "Text with a link."
    assert [r.href for r in runs if r.href] == ["https://e.org/a%7Cb"]
