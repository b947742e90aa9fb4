"""Blocks -> the HTML subset Telegram's Bot API accepts with `parse_mode: "HTML"`.

Telegram knows no paragraphs, headings, lists, tables or images (platforms.md §11): the
layout is the plain-text one (`PlainText`), written with Telegram's few tags: `b`, `i`,
`s`, `code`, `pre`, `a` and `blockquote`. It forbids some nesting: `code` and `pre`
contain nothing and sit inside no other entity but a blockquote, so a run that is both
code and bold is sent as code, and code inside a link as plain link text; a blockquote
cannot hold another, so a quote inside a quote is written with `> ` markers. Sub- and
superscript have no tag and are sent as plain text; a footnote reference is "[1]" and the
notes follow the text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html.parser import HTMLParser

from pipeline.document import (
    Block,
    Code,
    Footnote,
    Heading,
    Image,
    Inline,
    InlineImage,
    Quote,
    Run,
)
from pipeline.render.html import code_language
from pipeline.render.parts import safe_href
from pipeline.render.plain import RULE, PlainText, image_caption, image_label

__all__ = ["RULE", "escape", "escape_attribute", "render_telegram_html", "telegram_text_length"]

ALLOWED_TAGS = frozenset({"b", "i", "s", "code", "pre", "a", "blockquote"})


def render_telegram_html(blocks: list[Block], footnotes: Sequence[Footnote] = ()) -> str:
    """The blocks as Telegram HTML, separated by blank lines, then the footnotes."""
    return TelegramHtml(footnotes).document(blocks)


class TelegramHtml(PlainText):
    """The plain-text layout in Telegram's tags, escaped as its HTML mode wants."""

    quote_marker = "&gt; "
    shows_link_urls = False

    def __init__(self, footnotes: Sequence[Footnote] = ()) -> None:
        super().__init__(footnotes)
        self.in_quote = False
        self.in_heading = False

    def escape(self, text: str) -> str:
        return escape(text)

    def heading(self, block: Heading) -> str:
        return self._bold(block.content, self.inline)

    def column_label(self, header: Inline) -> str:
        return self._bold(header, self.one_line)

    def _bold(self, content: Inline, write: Callable[[Inline], str]) -> str:
        """Content in one `b`: marks that cannot sit in it (code) or would double it
        (strong) are left off inside."""
        self.in_heading = True
        try:
            text = write(content)
        finally:
            self.in_heading = False
        return f"<b>{text}</b>" if text else ""

    def quote(self, block: Quote) -> str:
        """A blockquote; one inside it is written with `> ` markers (they cannot nest)."""
        if self.in_quote:
            return super().quote(block)
        self.in_quote = True
        try:
            text = self.blocks(block.blocks)
        finally:
            self.in_quote = False
        return f"<blockquote>{text}</blockquote>" if text else ""

    def code(self, block: Code) -> str:
        text = escape(block.text.rstrip("\n"))
        if not text:
            return ""
        language = code_language(block.language)
        if language:
            return f'<pre><code class="language-{language}">{text}</code></pre>'
        return f"<pre>{text}</pre>"

    def image(self, block: Image) -> str:
        label = escape(image_label(block))
        src = safe_href(block.src, allow_relative=False)
        line = f'<a href="{escape_attribute(src)}">{label}</a>' if src else label
        caption = image_caption(block)
        return f"{line}\n{escape(caption)}" if caption else line

    def indents(self, block: Block) -> bool:
        """Code keeps its own lines: spaces put in front of them would land inside the `pre`
        and change the code."""
        return not isinstance(block, Code)

    def link(self, text: str, href: str) -> str:
        link = safe_href(href, allow_relative=False)
        return f'<a href="{escape_attribute(link)}">{text}</a>' if link else text

    def run(self, run: Run, *, in_link: bool) -> str:
        text = escape(run.text)
        if "code" in run.marks and not in_link and not self.in_heading:
            return f"<code>{text}</code>"
        if "strike" in run.marks:
            text = f"<s>{text}</s>"
        if "em" in run.marks:
            text = f"<i>{text}</i>"
        if "strong" in run.marks and not self.in_heading:
            text = f"<b>{text}</b>"
        return text

    def inline_image(self, image: InlineImage, *, in_link: bool) -> str:
        label = escape(image_label(image))
        if in_link:
            return label
        src = safe_href(image.src, allow_relative=False)
        return f'<a href="{escape_attribute(src)}">{label}</a>' if src else label


def escape(text: str) -> str:
    """Telegram's HTML mode needs only `&`, `<` and `>` escaped in text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attribute(value: str) -> str:
    return escape(value).replace('"', "&quot;")


def telegram_text_length(markup: str) -> int:
    """The message length Telegram checks against its 1-4096 limit.

    The Bot API counts the text "after entities parsing" (platforms.md §11): tags removed
    and entities decoded. We count Unicode code points, the API's "characters"; entity
    offsets are UTF-16 units, but the length limit is stated in characters.
    """
    parser = _TextCollector()
    parser.feed(markup)
    parser.close()
    return len("".join(parser.text))


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)
