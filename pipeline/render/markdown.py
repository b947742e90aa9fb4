"""Blocks -> CommonMark (dev.to, Medium import, the static site), written to parse back exactly.

Text is escaped so an author's `*`, `_`, `[` or a line starting with `#` or `1.` stays text.
Emphasis in CommonMark depends on its neighbours (the "flanking" rules), so each paragraph's
inline Markdown is parsed back with markdown-it; if strong/em would not survive, that
paragraph is written without them rather than with stray asterisks (code and links stay).
"""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt

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

EMPHASIS = {"strong": "**", "em": "*"}
ALWAYS_ESCAPED = set("\\*_[]<`~")
_NEEDS_ESCAPE = re.compile(r"[\\*_\[\]<`~]")
ENTITY_LIKE = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
LINE_START_BLOCK = re.compile(r"([#>+=-])|([0-9]{1,9})([.)])")

CharKey = tuple[str, frozenset[str], str | None]


def render_markdown(blocks: list[Block]) -> str:
    """The blocks as CommonMark, blocks separated by a blank line, ending with a newline."""
    chunks: list[str] = []
    previous: Block | None = None
    alternate = False
    for block in blocks:
        # Two lists of one kind in a row would merge into one: switch marker (`-`/`*`, `.`/`)`).
        alternate = _follows_same_kind(previous, block) and not alternate
        text = _block(block, alternate)
        if text:
            chunks.append(text)
            previous = block
    return "\n\n".join(chunks) + "\n" if chunks else ""


def _block(block: Block, alternate: bool) -> str:
    if isinstance(block, Heading):
        content = [
            Run(text=r.text.replace("\n", " "), marks=r.marks, href=r.href) for r in block.content
        ]
        text = inline_markdown(content)
        if not text:
            return ""
        # A trailing run of `#` would be read as the heading's optional closing sequence.
        text = re.sub(r"(^|[ \t])(#+)$", lambda m: m.group(1) + "\\#" * len(m.group(2)), text)
        return "#" * block.level + " " + text
    if isinstance(block, Paragraph):
        return inline_markdown(block.content)
    if isinstance(block, ListBlock):
        return "\n".join(_list_lines(block, alternate))
    if isinstance(block, Quote):
        paragraphs = [inline_markdown(p) for p in block.paragraphs]
        text = "\n\n".join(p for p in paragraphs if p)
        return "\n".join("> " + line if line else ">" for line in text.split("\n")) if text else ""
    if isinstance(block, Code):
        return _fenced(block)
    if isinstance(block, Image):
        return _image(block)
    if isinstance(block, Rule):
        return "---"
    return ""


def _list_lines(block: ListBlock, alternate: bool) -> list[str]:
    """A list's lines; each item's content is indented by its own marker's width."""
    lines: list[str] = []
    for index, item in enumerate(block.items):
        if block.ordered:
            marker = f"{block.start + index}{')' if alternate else '.'}"
        else:
            marker = "*" if alternate else "-"
        indent = " " * (len(marker) + 1)
        content = inline_markdown(item.content)
        if content:
            first, *rest = content.split("\n")
            lines.append(f"{marker} {first}")
            lines.extend(indent + line if line else "" for line in rest)
        else:
            lines.append(marker)
        previous_child: ListBlock | None = None
        child_alternate = False
        for child in item.children:
            child_alternate = _follows_same_kind(previous_child, child) and not child_alternate
            # An ordered list not starting at 1 cannot interrupt the item's paragraph.
            if (content and child.ordered and child.start != 1) or previous_child is not None:
                lines.append("")
            lines.extend(
                indent + line if line else "" for line in _list_lines(child, child_alternate)
            )
            previous_child = child
    return lines


def _follows_same_kind(previous: Block | None, block: Block) -> bool:
    return (
        isinstance(block, ListBlock)
        and isinstance(previous, ListBlock)
        and previous.ordered == block.ordered
    )


def _fenced(block: Code) -> str:
    longest = max((len(m) for m in re.findall(r"`+", block.text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = block.text if block.text.endswith("\n") or not block.text else block.text + "\n"
    return f"{fence}{code_language(block.language)}\n{body}{fence}"


def _image(image: Image) -> str:
    src = safe_href(image.src)
    if src is None:
        return ""
    alt = escape_text(image.alt.replace("\n", " "), at_line_start=False)
    title = ""
    if image.caption:
        caption = image.caption.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
        title = f' "{caption}"'
    return f"![{alt}]({_destination(src)}{title})"


def inline_markdown(content: Inline) -> str:
    """Runs as inline Markdown; emphasis is dropped only if it would not parse back."""
    content = _strip_ends(content)
    rendered = _inline(content, emphasis=True)
    if _plainly_safe(content) or _chars(content) == _parsed_chars(rendered):
        return rendered
    return _inline(content, emphasis=False)


def _plainly_safe(content: Inline) -> bool:
    """True when CommonMark certainly reads the emphasis back, so no parse is needed.

    That holds when every emphasised run stands alone (its neighbours carry no emphasis or
    code), has a single mark, and each of its delimiters touches a letter or digit inside,
    or whitespace (or the paragraph's edge) outside: the opening delimiter is then
    left-flanking and the closing one right-flanking. A link's edge counts as neither (a
    bracket stands there). Anything else is checked by parsing the rendered text back.
    """
    previous_emphasis = False
    for index, run in enumerate(content):
        emphasis = [m for m in run.marks if m in EMPHASIS]
        if not emphasis:
            previous_emphasis = False
            continue
        core = run.text.strip()
        if previous_emphasis or len(emphasis) > 1 or "code" in run.marks or not core:
            return False
        before = content[index - 1] if index > 0 else None
        after = content[index + 1] if index + 1 < len(content) else None
        space_before = run.text[0].isspace() or (
            before is None or (before.href == run.href and before.text[-1:].isspace())
        )
        space_after = run.text[-1].isspace() or (
            after is None or (after.href == run.href and after.text[:1].isspace())
        )
        if not (core[0].isalnum() or space_before) or not (core[-1].isalnum() or space_after):
            return False
        previous_emphasis = True
    return True


def _strip_ends(content: Inline) -> Inline:
    """Drop leading and trailing whitespace: Markdown parsers strip it from every block."""
    runs = [r for r in content if r.text]
    while runs and not runs[0].text.strip():
        runs.pop(0)
    while runs and not runs[-1].text.strip():
        runs.pop()
    if runs:
        runs[0] = runs[0].model_copy(update={"text": runs[0].text.lstrip()})
        runs[-1] = runs[-1].model_copy(update={"text": runs[-1].text.rstrip()})
    return runs


def _inline(content: Inline, *, emphasis: bool) -> str:
    if not emphasis:
        # Without strong/em, neighbouring code runs must join, or "`a``b`" reads as one span.
        content = [
            r.model_copy(update={"marks": tuple(m for m in r.marks if m == "code")})
            for r in content
        ]
    out: list[str] = []
    for href, runs in link_groups(content):
        at_line_start = not out or "".join(out).endswith("\n")
        inner = _emit_runs(runs, emphasis=emphasis, at_line_start=at_line_start and href is None)
        out.append(f"[{inner}]({_destination(href)})" if href else inner)
    return "".join(out)


def _emit_runs(runs: list[Run], *, emphasis: bool, at_line_start: bool) -> str:
    """Runs with emphasis delimiters; whitespace is kept outside a delimiter it touches."""
    out: list[str] = []
    stack: list[str] = []
    pending = ""

    def text(value: str) -> str:
        last = next((piece for piece in reversed(out) if piece), None)
        starts = last.endswith("\n") if last is not None else at_line_start
        return escape_text(value, at_line_start=starts)

    for run in runs:
        is_code = "code" in run.marks
        if not is_code and not run.text.strip():
            pending += run.text
            continue
        want = [m for m in EMPHASIS if m in run.marks] if emphasis else []
        if is_code:
            lead, core, trail = "", run.text, ""
        else:
            stripped = run.text.strip()
            start = run.text.index(stripped)
            lead, core, trail = run.text[:start], stripped, run.text[start + len(stripped) :]
        keep = 0
        while keep < min(len(stack), len(want)) and stack[keep] == want[keep]:
            keep += 1
        for mark in reversed(stack[keep:]):
            out.append(EMPHASIS[mark])
        if pending + lead:
            out.append(text(pending + lead))
        pending = ""
        for mark in want[keep:]:
            out.append(EMPHASIS[mark])
        stack = want
        if is_code:
            # A code span cannot hold a line break: split it around a hard break.
            out.append("\\\n".join(code_span(part) if part else "" for part in core.split("\n")))
        else:
            out.append(text(core))
        pending = trail
    for mark in reversed(stack):
        out.append(EMPHASIS[mark])
    if pending:
        out.append(text(pending))
    return "".join(out)


def escape_text(text: str, *, at_line_start: bool) -> str:
    """Backslash-escape what Markdown would read as syntax; newlines become hard breaks."""
    lines = []
    for number, line in enumerate(text.split("\n")):
        escaped = line
        if _NEEDS_ESCAPE.search(line):  # most lines hold none: skip the per-character pass
            escaped = "".join(
                "\\" + ch if ch in ALWAYS_ESCAPED and not _intraword(line, i) else ch
                for i, ch in enumerate(line)
            )
        escaped = ENTITY_LIKE.sub(lambda m: "\\" + m.group(), escaped)
        if escaped.endswith("!"):
            escaped = escaped[:-1] + "\\!"  # "!" before a following link would make an image
        if number > 0 or at_line_start:
            escaped = _escape_line_start(escaped)
        lines.append(escaped)
    return "\\\n".join(lines)


def _intraword(line: str, index: int) -> bool:
    """An `_` between letters or digits can neither open nor close emphasis: leave it bare."""
    return (
        line[index] == "_"
        and 0 < index < len(line) - 1
        and line[index - 1].isalnum()
        and line[index + 1].isalnum()
    )


def _escape_line_start(line: str) -> str:
    """Neutralise what opens a block at a line start: `#`, `>`, `-`, `+`, `=`, `1.`, indent."""
    body = line.lstrip(" \t")
    indent = line[: len(line) - len(body)]
    # Parsers drop leading blanks (or start indented code on them): write them as entities.
    indent = indent.replace(" ", "&#32;").replace("\t", "&#9;")
    match = LINE_START_BLOCK.match(body)
    if match and match.group(1):
        body = "\\" + body
    elif match:
        body = match.group(2) + "\\" + body[len(match.group(2)) :]
    return indent + body


def code_span(text: str) -> str:
    """`text` in a backtick string no run inside it can close, padded where CommonMark strips."""
    runs = {len(m) for m in re.findall(r"`+", text)}
    ticks = next(n for n in range(1, len(runs) + 2) if n not in runs)
    fence = "`" * ticks
    needs_pad = text.startswith("`") or text.endswith("`")
    needs_pad = needs_pad or (text.startswith(" ") and text.endswith(" ") and text.strip(" "))
    if needs_pad:
        text = f" {text} "
    return f"{fence}{text}{fence}"


def _destination(url: str) -> str:
    url = re.sub(r"[\x00-\x20]", lambda m: f"%{ord(m.group()):02X}", url)
    url = re.sub(r"([\\()<>])", r"\\\1", url)
    return ENTITY_LIKE.sub(lambda m: "\\" + m.group(), url)


# --- parse-back check -----------------------------------------------------------------


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark")


def _chars(content: Inline) -> list[CharKey]:
    """What a reader sees, character by character: emphasis on blank space is invisible."""
    keys: list[CharKey] = []
    md = _parser()
    for href, runs in link_groups(content):
        link = md.normalizeLink(href) if href else None
        for run in runs:
            is_code = "code" in run.marks
            for ch in run.text:
                marks = frozenset(run.marks)
                if ch == "\n" or (not is_code and ch.isspace()):
                    marks = frozenset()
                keys.append((ch, marks, link))
    return keys


def _parsed_chars(markdown: str) -> list[CharKey] | None:
    tokens = _parser().parseInline(markdown)
    children = tokens[0].children or [] if tokens else []
    keys: list[CharKey] = []
    marks: list[str] = []
    href: str | None = None
    for token in children:
        if token.type in ("strong_open", "em_open"):
            marks.append(token.type.removesuffix("_open"))
        elif token.type in ("strong_close", "em_close"):
            marks.remove(token.type.removesuffix("_close"))
        elif token.type == "link_open":
            href = str(token.attrs.get("href"))
        elif token.type == "link_close":
            href = None
        elif token.type in ("text", "code_inline", "hardbreak"):
            text = "\n" if token.type == "hardbreak" else token.content
            code = token.type == "code_inline"
            for ch in text:
                mark_set = frozenset([*marks, "code"] if code else marks)
                if not code and ch.isspace():
                    mark_set = frozenset()
                keys.append((ch, mark_set, href))
        else:
            return None
    return keys
