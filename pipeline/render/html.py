"""Blocks -> semantic, sanitised HTML for blogs (WordPress, Ghost, Patreon's `content`).

Every text is escaped as it is written and the result is then passed through nh3 with an
explicit allow-list, so neither a reader's bug nor a hostile input can put a script, an
event handler or a `javascript:` link into a post. One block per line keeps diffs readable.
"""

from __future__ import annotations

import html
import re

import nh3

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
from pipeline.render.parts import SAFE_SCHEMES, link_groups, safe_href

ALLOWED_TAGS = frozenset(
    {"h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "ul", "ol", "li", "blockquote", "pre"}
    | {"code", "figure", "img", "figcaption", "hr", "strong", "em", "a"}
)
ALLOWED_ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt"}, "ol": {"start"}, "code": {"class"}}
LANGUAGE_CLASS = re.compile(r"language-[\w+#.-]+")
MARK_TAGS = {"strong": "strong", "em": "em", "code": "code"}


def render_html(blocks: list[Block]) -> str:
    """The blocks as sanitised HTML, one top-level block per line."""
    lines = [_block(block) for block in blocks]
    return sanitize_html("\n".join(line for line in lines if line))


def sanitize_html(markup: str) -> str:
    """Keep only the tags, attributes and URL schemes this project emits.

    `link_rel=None`: nh3 would otherwise add rel="noopener noreferrer" to every link. We
    never emit `target`, so `noopener` protects nothing, and `noreferrer` would hide the
    author's own referrals from the sites they link to.
    """
    return nh3.clean(
        markup,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_filter_attribute,
        url_schemes=set(SAFE_SCHEMES),
        link_rel=None,
    )


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Only a `language-x` class on code, only a positive number for a list start."""
    if tag == "code" and attribute == "class":
        return value if LANGUAGE_CLASS.fullmatch(value) else None
    if tag == "ol" and attribute == "start":
        return value if value.isdigit() else None
    return value


def _block(block: Block) -> str:
    if isinstance(block, Heading):
        text = inline_html(block.content)
        return f"<h{block.level}>{text}</h{block.level}>" if text else ""
    if isinstance(block, Paragraph):
        text = inline_html(block.content)
        return f"<p>{text}</p>" if text else ""
    if isinstance(block, ListBlock):
        return _list(block)
    if isinstance(block, Quote):
        paragraphs = "".join(f"<p>{inline_html(p)}</p>" for p in block.paragraphs if p)
        return f"<blockquote>{paragraphs}</blockquote>"
    if isinstance(block, Code):
        language = code_language(block.language)
        attr = f' class="language-{language}"' if language else ""
        return f"<pre><code{attr}>{_escape(block.text)}</code></pre>"
    if isinstance(block, Image):
        return _image(block)
    if isinstance(block, Rule):
        return "<hr>"
    return ""


def _list(block: ListBlock) -> str:
    if block.ordered:
        tag = "ol"
        attr = f' start="{block.start}"' if block.start != 1 else ""
    else:
        tag, attr = "ul", ""
    items = []
    for item in block.items:
        children = "".join(_list(child) for child in item.children)
        items.append(f"<li>{inline_html(item.content)}{children}</li>")
    return f"<{tag}{attr}>{''.join(items)}</{tag}>"


def _image(image: Image) -> str:
    src = safe_href(image.src)
    if src is None:
        return ""
    caption = f"<figcaption>{_escape(image.caption)}</figcaption>" if image.caption else ""
    return f'<figure><img src="{_attr(src)}" alt="{_attr(image.alt)}">{caption}</figure>'


def inline_html(content: Inline) -> str:
    """Runs as inline HTML: a link wraps whole runs, marks nest inside it."""
    parts: list[str] = []
    for href, runs in link_groups(content):
        inner = "".join(_run(run) for run in runs)
        parts.append(f'<a href="{_attr(href)}">{inner}</a>' if href else inner)
    return "".join(parts)


def _run(run: Run) -> str:
    text = _escape(run.text).replace("\n", "<br>")
    for mark in reversed(sorted(run.marks, key=list(MARK_TAGS).index)):
        tag = MARK_TAGS[mark]
        text = f"<{tag}>{text}</{tag}>"
    return text


def code_language(language: str | None) -> str:
    """The language's leading name (word characters and `+#.-`), safe in a class or fence."""
    match = re.match(r"[\w+#.-]+", (language or "").strip())
    return match.group() if match else ""


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _attr(value: str) -> str:
    return html.escape(value, quote=True)
