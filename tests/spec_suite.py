"""The CommonMark spec's examples, installed from npm at test time, and an HTML normaliser.

The examples come from the `commonmark-spec` npm package (the spec text with its
examples), installed once into the test cache like the other Node packages the tests use.
Output is compared the way the spec's own test harness compares it: whitespace between
block tags and at line ends does not count, runs of whitespace in text count as one,
attributes are compared sorted, and `<br />` equals `<br>`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from tests.npm_packages import npm_package

SPEC_VERSION = "0.31.2"
_EXAMPLE = re.compile(
    r"^`{32} example\n(?P<markdown>[\s\S]*?)^\.\n(?P<html>[\s\S]*?)^`{32}$"
    r"|^#{1,6} *(?P<section>.*)$",
    re.M,
)


@dataclass(frozen=True)
class Example:
    number: int
    section: str
    markdown: str
    html: str


def spec_text() -> str:
    """spec.txt from the `commonmark-spec` package."""
    package = npm_package("commonmark-spec", SPEC_VERSION)
    return (package / "spec.txt").read_text(encoding="utf-8")


def examples() -> list[Example]:
    """Every example in spec order; `→` in the spec stands for a tab, as its harness reads it."""
    text = re.sub(r"^<!-- END TESTS -->[\s\S]*", "", spec_text().replace("\r\n", "\n"), flags=re.M)
    found: list[Example] = []
    section = ""
    for match in _EXAMPLE.finditer(text):
        if match["section"] is not None:
            section = match["section"]
            continue
        found.append(
            Example(
                number=len(found) + 1,
                section=section,
                markdown=match["markdown"].replace("→", "\t"),
                html=match["html"].replace("→", "\t"),
            )
        )
    return found


BLOCK_TAGS = frozenset(
    [
        "article",
        "header",
        "aside",
        "hgroup",
        "blockquote",
        "hr",
        "iframe",
        "body",
        "li",
        "map",
        "button",
        "object",
        "canvas",
        "ol",
        "caption",
        "output",
        "col",
        "p",
        "colgroup",
        "pre",
        "dd",
        "progress",
        "div",
        "section",
        "dl",
        "table",
        "td",
        "dt",
        "tbody",
        "embed",
        "textarea",
        "fieldset",
        "tfoot",
        "figcaption",
        "th",
        "figure",
        "thead",
        "footer",
        "tr",
        "form",
        "ul",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "video",
        "script",
        "style",
    ]
)
# The essay keeps inline formatting as a set of marks per stretch of text (as editors do),
# so `<em>a <strong>b</strong></em>` and `<em>a </em><strong><em>b</em></strong>` look the
# same to a reader and compare equal: inline tags are rewritten in one canonical nesting.
INLINE_TAGS = ("a", "strong", "em", "del", "sub", "sup", "code")


class _Normaliser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []
        self.last = "starttag"
        self.last_tag = ""
        self.in_pre = False
        self.open: list[tuple[str, str]] = []  # open inline tags: (name, rendered start tag)
        self.pending: list[tuple[str, tuple[tuple[str, str], ...]]] = []

    def handle_data(self, data: str) -> None:
        if self.last in ("starttag", "endtag") and self.last_tag in BLOCK_TAGS:
            data = data.lstrip()
        if self.last == "starttag" and self.last_tag == "br":
            data = data.lstrip("\n")
        if not self.in_pre:
            data = re.sub(r"\s+", " ", data)
        if data:
            self._emit(html.escape(html.unescape(data), quote=False))
        self.last = "data"

    def _emit(self, piece: str) -> None:
        """Text (or a void inline element) under the inline tags open right now."""
        order = {name: i for i, name in enumerate(INLINE_TAGS)}
        wrappers = tuple(sorted(set(self.open), key=lambda t: (order.get(t[0], 99), t[1])))
        if self.pending and self.pending[-1][1] == wrappers:
            self.pending[-1] = (self.pending[-1][0] + piece, wrappers)
        else:
            self.pending.append((piece, wrappers))

    def _flush(self) -> None:
        for text, wrappers in self.pending:
            starts = "".join(start for _, start in wrappers)
            ends = "".join(f"</{name}>" for name, _ in reversed(wrappers))
            self.out.append(f"{starts}{text}{ends}")
        self.pending = []

    def handle_entityref(self, name: str) -> None:
        self.handle_data(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.handle_data(html.unescape(f"&#{name};"))

    def _strip_before_block(self, tag: str) -> None:
        if tag in BLOCK_TAGS and self.pending:
            text, wrappers = self.pending[-1]
            self.pending[-1] = (text.rstrip(), wrappers)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = {"b": "strong", "i": "em", "s": "del"}.get(tag, tag)
        if tag == "pre":
            self.in_pre = True
        self._strip_before_block(tag)
        rendered = "".join(
            f' {name}="{html.escape(value or "", quote=True)}"' for name, value in sorted(attrs)
        )
        start = f"<{tag}{rendered}>"
        if tag in INLINE_TAGS:
            self.open.append((tag, start))
        elif tag == "br":  # a line break carries no formatting of its own
            opened, self.open = self.open, []
            self._emit(start)
            self.open = opened
        elif tag in ("img", "input"):
            self._emit(start)
        else:
            self._flush()
            self.out.append(start)
        self.last, self.last_tag = "starttag", tag

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        tag = {"b": "strong", "i": "em", "s": "del"}.get(tag, tag)
        if tag == "pre":
            self.in_pre = False
        self._strip_before_block(tag)
        if tag in INLINE_TAGS:
            for index in range(len(self.open) - 1, -1, -1):
                if self.open[index][0] == tag:
                    del self.open[index]
                    break
        else:
            self._flush()
            self.out.append(f"</{tag}>")
        self.last, self.last_tag = "endtag", tag


def normalise(markup: str) -> str:
    """`markup` in the canonical form two renderings are compared in."""
    parser = _Normaliser()
    # `<!-->` and `<!--->` are complete (empty) comments in HTML5; html.parser disagrees
    parser.feed(re.sub(r"<!--->|<!-->", "", markup))
    parser.close()
    parser._flush()
    return "".join(parser.out).strip()
