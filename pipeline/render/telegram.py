"""Blocks -> the HTML subset Telegram's Bot API accepts with `parse_mode: "HTML"`.

Telegram knows no paragraphs, headings, lists or images (platforms.md §11): structure is
written with newlines, bullets and bold lines. It also forbids some nesting: `code` and
`pre` contain nothing and sit inside no other entity but a blockquote, so a run that is
both code and bold is sent as code, and code inside a link as plain link text.
"""

from __future__ import annotations

from html.parser import HTMLParser

from pipeline.document import (
    Block,
    Code,
    Heading,
    Image,
    Inline,
    ListBlock,
    Paragraph,
    Quote,
    Rule,
    Run,
)
from pipeline.render.html import code_language
from pipeline.render.parts import link_groups, safe_href

RULE = "* * *"


def render_telegram_html(blocks: list[Block]) -> str:
    """The blocks as Telegram HTML, separated by blank lines."""
    chunks = [_block(block) for block in blocks]
    return "\n\n".join(chunk for chunk in chunks if chunk)


def _block(block: Block) -> str:
    if isinstance(block, Heading):
        text = inline_telegram(block.content, bold=True)
        return f"<b>{text}</b>" if text else ""
    if isinstance(block, Paragraph):
        return inline_telegram(block.content)
    if isinstance(block, ListBlock):
        return "\n".join(_list_lines(block, indent=""))
    if isinstance(block, Quote):
        text = "\n\n".join(t for p in block.paragraphs if (t := inline_telegram(p)))
        return f"<blockquote>{text}</blockquote>" if text else ""
    if isinstance(block, Code):
        language = code_language(block.language)
        text = escape(block.text.rstrip("\n"))
        if not text:
            return ""
        if language:
            return f'<pre><code class="language-{language}">{text}</code></pre>'
        return f"<pre>{text}</pre>"
    if isinstance(block, Image):
        label = escape(image_label(block))
        src = safe_href(block.src, allow_relative=False)
        line = f'<a href="{escape_attribute(src)}">{label}</a>' if src else label
        caption = image_caption(block)
        return f"{line}\n{escape(caption)}" if caption else line
    if isinstance(block, Rule):
        return RULE
    return ""


def image_label(image: Image) -> str:
    """What stands for an image in text-only outputs: its alt text (else its caption)."""
    described = (image.alt or image.caption).replace("\n", " ").strip()
    return f"[image: {described}]" if described else "[image]"


def image_caption(image: Image) -> str:
    """The caption to show under an image's label, unless the label already shows it."""
    return image.caption if image.alt and image.caption and image.caption != image.alt else ""


def _list_lines(block: ListBlock, indent: str) -> list[str]:
    """`• item` / `1. item` lines; nested items are indented under their parent's text."""
    lines: list[str] = []
    for index, item in enumerate(block.items):
        marker = f"{block.start + index}. " if block.ordered else "• "
        inner = indent + " " * len(marker)
        first, *rest = inline_telegram(item.content).split("\n")
        lines.append(f"{indent}{marker}{first}".rstrip())
        lines.extend(inner + line for line in rest)
        for child in item.children:
            lines.extend(_list_lines(child, inner))
    return lines


def inline_telegram(content: Inline, *, bold: bool = False) -> str:
    """Runs as Telegram HTML; `bold` drops the strong mark inside an already bold line."""
    parts: list[str] = []
    for href, runs in link_groups(content):
        link = safe_href(href, allow_relative=False) if href else None
        inner = "".join(_run(run, in_link=link is not None, bold=bold) for run in runs)
        parts.append(f'<a href="{escape_attribute(link)}">{inner}</a>' if link else inner)
    return "".join(parts)


def _run(run: Run, *, in_link: bool, bold: bool) -> str:
    text = escape(run.text)
    if "code" in run.marks and not in_link and not bold:
        return f"<code>{text}</code>"
    if "em" in run.marks:
        text = f"<i>{text}</i>"
    if "strong" in run.marks and not bold:
        text = f"<b>{text}</b>"
    return text


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
