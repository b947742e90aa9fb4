"""Markdown with optional YAML front matter → `Essay`.

Front matter is the author's metadata (title, tags, canonical URL, schedule, per-target
options); the body is CommonMark, parsed by markdown-it-py. Raw HTML is dropped rather than
passed through, so nothing a renderer emits can carry a `<script>` from the input.
Unknown front-matter keys are kept aside (`Essay.front_matter_extra`): once settings are
known they are target switches (`x: false`) or warnings, so files written for Hugo or
Jekyll (`layout`, `draft`, …) still read and the author hears what was ignored.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from pipeline.document import (
    Block,
    Code,
    Essay,
    Heading,
    Image,
    Inline,
    ListBlock,
    ListItem,
    Mark,
    Paragraph,
    Quote,
    Rule,
    Run,
    merge_runs,
    plain,
)
from pipeline.errors import ReadError
from pipeline.frontmatter import top_level_extras
from pipeline.readers import decode_text
from pipeline.readers.html_blocks import safe_href, safe_src
from pipeline.readers.inline_markdown import MARK_ORDER, with_mark
from pipeline.readers.promo import split_promo

MAX_FRONT_MATTER_BYTES = 64 * 1024

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?)^(?:---|\.\.\.)[ \t]*$", re.S | re.M)
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
_HAS_TIME = re.compile(r"\d:\d\d")
_TEXT_KEYS = ("title", "subtitle", "author", "slug")


# --- front matter -------------------------------------------------------------------------


class _AliasRefused(Exception):
    def __init__(self, mark: yaml.Mark | None) -> None:
        self.mark = mark


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases.

    Aliases are how a "billion laughs" YAML bomb makes a few hundred bytes expand into
    gigabytes; front matter never needs them, so any `&anchor` or `*alias` is an error.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _AliasRefused(event.start_mark)
        return super().compose_node(parent, index)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, datetime):
        return "a date and time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__


def split_front_matter(path: Path, text: str) -> tuple[dict[str, Any], str]:
    """(metadata, body). A file without a leading `---` line has no front matter."""
    if not re.match(r"---[ \t]*\n", text):
        return {}, text
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise ReadError(path, "the front matter opened by --- on line 1 is never closed by ---")
    source = match["yaml"]
    size = len(source.encode("utf-8"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise ReadError(
            path,
            f"the front matter is {size} bytes; the limit is {MAX_FRONT_MATTER_BYTES} bytes",
        )
    try:
        meta = yaml.load(source, Loader=_NoAliasLoader)  # a SafeLoader without aliases
    except _AliasRefused as exc:
        where = f" (line {exc.mark.line + 2})" if exc.mark else ""
        raise ReadError(
            path,
            f"the front matter uses a YAML anchor or alias (& or *){where}; they are refused "
            "because aliases can expand into a huge document (a YAML bomb)",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ReadError(path, f"the front matter is not valid YAML{where}: {problem}") from None
    except RecursionError:
        raise ReadError(path, "the front matter nests too deeply to be metadata") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ReadError(path, f"the front matter must be `key: value` lines, not {_kind(meta)}")
    return meta, text[match.end() :]


def _text(path: Path, meta: dict[str, Any], key: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ReadError(
            path, f"front matter `{key}` must be text, not {_kind(value)} (quote it if needed)"
        )
    return str(value).strip() or None


def _one_of(path: Path, meta: dict[str, Any], *keys: str) -> tuple[str, Any]:
    """The value of whichever synonym is given (`date`/`published`); two that differ is an error."""
    given = [(key, meta[key]) for key in keys if meta.get(key) is not None]
    if len({repr(value) for _, value in given}) > 1:
        raise ReadError(path, f"front matter gives both `{given[0][0]}` and `{given[1][0]}`")
    return given[0] if given else (keys[0], None)


def _published(path: Path, meta: dict[str, Any]) -> date | None:
    key, value = _one_of(path, meta, "date", "published")
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip()).date()
        except ValueError:
            pass
    raise ReadError(
        path, f"front matter `{key}` must be a date like 2025-01-31, not {_kind(value)} {value!r}"
    )


def _publish_at(path: Path, meta: dict[str, Any]) -> datetime | None:
    value = meta.get("publish_at")
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str) and _HAS_TIME.search(value):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ReadError(
        path,
        "front matter `publish_at` must be a date and time like 2025-06-02T08:00:00+02:00 "
        f"(with or without the offset), not {_kind(value)} {value!r}",
    )


def _tags(path: Path, meta: dict[str, Any]) -> list[str]:
    value = meta.get("tags")
    if value is None:
        return []
    if isinstance(value, str):
        raw: list[object] = list(value.split(","))
    elif isinstance(value, list):
        raw = value
    else:
        raw = [value]
    if any(isinstance(tag, bool) or not isinstance(tag, str | int | float) for tag in raw) or (
        not isinstance(value, str | list)
    ):
        raise ReadError(
            path,
            "front matter `tags` must be a list like [writing, indieweb] or a comma-separated "
            f"string, not {_kind(value)}",
        )
    tags: list[str] = []
    seen: set[str] = set()
    for tag in raw:
        cleaned = str(tag).strip().strip("\"'").lstrip("#").strip()
        if cleaned and cleaned.casefold() not in seen:
            seen.add(cleaned.casefold())
            tags.append(cleaned)
    return tags


def _targets(path: Path, meta: dict[str, Any]) -> dict[str, dict | bool] | None:
    """Per-essay targets: a mapping (options, or false to switch one off) or a list of names.

    A list means "only these": it is kept as the names plus `"*": false` (every other
    target off), so the planner needs no second field to know the author's intent.
    """
    value = meta.get("targets")
    allowed = "a mapping of target name to options (or false), or a list of target names"
    if value is None:
        return None
    if isinstance(value, list):
        if not all(isinstance(name, str) for name in value):
            raise ReadError(path, f"front matter `targets` must be {allowed}")
        return {**{name: {} for name in value}, "*": False}
    if not isinstance(value, dict):
        raise ReadError(path, f"front matter `targets` must be {allowed}, not {_kind(value)}")
    targets: dict[str, dict | bool] = {}
    for name, options in value.items():
        if not isinstance(name, str):
            raise ReadError(path, f"front matter `targets` must be {allowed}")
        if isinstance(options, bool):
            targets[name] = options
            continue
        if options is not None and not isinstance(options, dict):
            raise ReadError(
                path,
                f"front matter `targets.{name}` must be a mapping of options "
                f"(like {{ mode: thread }}), false, or empty, not {_kind(options)}",
            )
        targets[name] = dict(options or {})
    return targets


def metadata(path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Front matter checked and converted to `Essay` fields; a wrong type names key and rule."""
    fields: dict[str, Any] = {key: _text(path, meta, key) for key in _TEXT_KEYS}
    canonical = _text(path, meta, "canonical_url")
    if canonical and not canonical.lower().startswith(("http://", "https://")):
        raise ReadError(path, f"front matter `canonical_url` must be an http(s) URL: {canonical!r}")
    key, language = _one_of(path, meta, "language", "lang")
    language = _text(path, {key: language}, key)
    if language and not _LANGUAGE.match(language):
        raise ReadError(
            path, f"front matter `{key}` must be a language code like en or pt-BR: {language!r}"
        )
    slug = fields["slug"]
    if slug and re.search(r"[\s/]", slug):
        raise ReadError(path, f"front matter `slug` must not contain spaces or '/': {slug!r}")
    fields.update(
        canonical_url=canonical,
        language=language,
        published=_published(path, meta),
        publish_at=_publish_at(path, meta),
        tags=_tags(path, meta),
        targets=_targets(path, meta),
        front_matter_extra={
            key: value if value is None or isinstance(value, bool | dict) else str(value)
            for key, value in top_level_extras(meta).items()
        },
    )
    return fields


# --- body ---------------------------------------------------------------------------------

_md = MarkdownIt("commonmark")
# Every destination parses as a link, so an unsafe one can be judged like in HTML: a
# `javascript:` link keeps only its words and a `data:` image goes, instead of markdown-it
# leaving the whole `[words](javascript:…)` in the text for every platform to print.
_md.validateLink = lambda url: True
_RAW_TEXT_TAG = re.compile(r"^<(script|style)\b", re.IGNORECASE)


def _alt(token: Token) -> str:
    """An image's alt text as plain text (markdown-it keeps it as child tokens)."""
    return "".join(
        _alt(child) if child.children else child.content
        for child in token.children or []
        if child.type in ("text", "code_inline", "image")
    )


def _inline(children: list[Token]) -> Inline:
    """markdown-it inline tokens → runs; nested marks combine, raw HTML tags are dropped."""
    runs: list[Run] = []
    marks: tuple[Mark, ...] = ()
    stack: list[Mark] = []
    hrefs: list[str | None] = []
    skip_until: str | None = None  # inside inline <script>/<style>: drop the content too
    in_unsafe_autolink = False  # `<javascript:…>`: its words are the URL, dropped with it
    for token in children:
        kind = token.type
        if skip_until:
            if kind == "html_inline" and token.content.lower().startswith(skip_until):
                skip_until = None
            continue
        if in_unsafe_autolink:
            in_unsafe_autolink = kind != "link_close"
            continue
        href = hrefs[-1] if hrefs else None
        if kind == "text":
            runs.append(Run(text=token.content, marks=marks, href=href))
        elif kind == "softbreak":
            runs.append(Run(text=" ", marks=marks, href=href))
        elif kind == "hardbreak":
            runs.append(Run(text="\n", marks=marks, href=href))
        elif kind == "code_inline":
            runs.append(Run(text=token.content, marks=with_mark(marks, "code"), href=href))
        elif kind in ("strong_open", "em_open"):
            stack.append("strong" if kind == "strong_open" else "em")
        elif kind in ("strong_close", "em_close"):
            stack.pop()
        elif kind == "link_open":
            safe = safe_href(str(token.attrGet("href") or ""))
            if safe is None and token.markup == "autolink":
                in_unsafe_autolink = True
                continue
            hrefs.append(safe)
        elif kind == "link_close":
            hrefs.pop()
        elif kind == "image":
            src = safe_src(str(token.attrGet("src") or "")) or ""
            runs.append(Run(text=_alt(token) or src, marks=marks, href=href or src or None))
        elif kind == "html_inline" and (raw := _RAW_TEXT_TAG.match(token.content)):
            skip_until = f"</{raw.group(1).lower()}"
        if kind.endswith(("_open", "_close")):
            marks = tuple(m for m in MARK_ORDER if m in stack)
    return merge_runs(runs)


def _paragraph(inline: Token) -> list[Block]:
    """A paragraph, or Image blocks when the paragraph holds nothing but images."""
    children = inline.children or []
    significant = [
        t
        for t in children
        if t.type not in ("softbreak", "hardbreak", "link_open", "link_close")
        and not (t.type == "text" and not t.content.strip())
    ]
    if significant and all(t.type == "image" for t in significant):
        return [  # an image with an unsafe source (data:, javascript:) is dropped
            Image(src=src, alt=_alt(t), caption=str(t.attrGet("title") or ""))
            for t in significant
            if (src := safe_src(str(t.attrGet("src") or "")))
        ]
    content = _inline(children)
    return [Paragraph(content=content)] if plain(content).strip() else []


def _as_inlines(block: Block) -> list[Inline]:
    """A block flattened to lines of runs, for containers that hold only text."""
    if isinstance(block, Heading | Paragraph):
        return [block.content]
    if isinstance(block, Quote):
        return block.paragraphs
    if isinstance(block, Code):
        return [[Run(text=block.text, marks=("code",))]]
    if isinstance(block, Image):
        return [[Run(text=block.alt or block.src, href=block.src)]]
    if isinstance(block, ListBlock):
        lines: list[Inline] = []
        for number, item in enumerate(block.items, start=block.start):
            marker = f"{number}. " if block.ordered else "• "
            lines.append(merge_runs([Run(text=marker), *item.content]))
            for child in item.children:
                lines.extend(_as_inlines(child))
        return lines
    return []


def _list_item(blocks: list[Block]) -> ListItem:
    item = ListItem()
    lines: list[Inline] = []
    for block in blocks:
        if isinstance(block, ListBlock):
            item.children.append(block)
        else:
            lines.extend(_as_inlines(block))
    runs: list[Run] = []
    for line in lines:
        if runs:
            runs.append(Run(text="\n"))
        runs.extend(line)
    item.content = merge_runs(runs)
    return item


def _blocks(tokens: list[Token], i: int, close: str | None = None) -> tuple[list[Block], int]:
    """Blocks from `tokens[i:]` up to the `close` token; returns them and the index after it."""
    blocks: list[Block] = []
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind == close:
            return blocks, i + 1
        if kind == "heading_open":
            content = _inline(tokens[i + 1].children or [])
            if plain(content).strip():
                blocks.append(Heading(level=int(token.tag[1]), content=content))
            i += 3
        elif kind == "paragraph_open":
            blocks.extend(_paragraph(tokens[i + 1]))
            i += 3
        elif kind in ("bullet_list_open", "ordered_list_open"):
            ordered = kind == "ordered_list_open"
            block = ListBlock(ordered=ordered, start=int(token.attrGet("start") or 1))
            i += 1
            while tokens[i].type == "list_item_open":
                inner, i = _blocks(tokens, i + 1, "list_item_close")
                block.items.append(_list_item(inner))
            blocks.append(block)
            i += 1  # the list's close token
        elif kind == "blockquote_open":
            inner, i = _blocks(tokens, i + 1, "blockquote_close")
            paragraphs = [line for b in inner for line in _as_inlines(b) if plain(line).strip()]
            if paragraphs:
                blocks.append(Quote(paragraphs=paragraphs))
        elif kind in ("fence", "code_block"):
            language = token.info.split()[0] if token.info.strip() else None
            blocks.append(Code(language=language, text=token.content.removesuffix("\n")))
            i += 1
        elif kind == "hr":
            blocks.append(Rule())
            i += 1
        else:  # html_block: raw HTML is dropped, never passed through
            i += 1
    return blocks, i


def parse_body(source: str) -> list[Block]:
    return _blocks(_md.parse(source), 0)[0]


def _title_from_body(blocks: list[Block], body: str) -> tuple[str, list[Block]]:
    """No front-matter title: the first heading if it is an H1 or opens the body, else line 1."""
    heading = next((b for b in blocks if isinstance(b, Heading)), None)
    if heading is not None and (heading.level == 1 or blocks[0] is heading):
        return plain(heading.content).strip(), [b for b in blocks if b is not heading]
    lines = body.lstrip("\n").split("\n", 1)
    title = plain(_inline(_md.parseInline(lines[0].strip())[0].children or [])).strip()
    return title, parse_body(lines[1] if len(lines) > 1 else "")


def read(path: Path, data: bytes) -> Essay:
    """Read a Markdown file; the front matter wins over anything guessed from the body."""
    meta, body = split_front_matter(path, decode_text(path, data))
    fields = metadata(path, meta)
    blocks = parse_body(body)
    title = fields.pop("title")
    if title:
        first = blocks[0] if blocks else None
        if isinstance(first, Heading) and first.level == 1 and plain(first.content) == title:
            blocks = blocks[1:]  # the same title repeated as the first H1
    else:
        title, blocks = _title_from_body(blocks, body)
    if not blocks:
        raise ReadError(path, "the essay has no body: nothing follows the title")
    blocks, promo = split_promo(blocks)
    return Essay(title=title, blocks=blocks, promo=promo, source_format="markdown", **fields)
