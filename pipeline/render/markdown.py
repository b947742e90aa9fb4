"""Blocks -> GitHub-flavoured Markdown (dev.to, Medium import, the static site), written to
parse back to the same tree.

Blocks nest by indentation: a list item's blocks are indented by its marker's width, a
quote's lines start with `> `; a tight list keeps its items on consecutive lines when
CommonMark can read them back that way. Tables, `~~strike~~`, task lists and `[^label]`
footnotes (their definitions at the end) are GFM; sub- and superscript have no Markdown
syntax and are written as `<sub>`/`<sup>`, which the Markdown reader reads back.

Text is escaped so an author's `*`, `_`, `[` or a line starting with `#` or `1.` stays text.
Emphasis depends on its neighbours (the "flanking" rules), so each paragraph's inline
Markdown is parsed back with pulldown-cmark; if the delimiters would not survive, that
paragraph is written without them rather than with stray asterisks (code and links stay).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pyromark

from pipeline.document import (
    Block,
    Code,
    Footnote,
    Heading,
    Image,
    Inline,
    InlineImage,
    InlineNode,
    LineBreak,
    ListBlock,
    ListItem,
    NoteRef,
    Paragraph,
    Quote,
    Rule,
    Run,
    Table,
    TableCell,
    merge_runs,
    walk,
)
from pipeline.readers.raw_html import trim
from pipeline.readers.urls import encode_url
from pipeline.render.memo import by_identity
from pipeline.render.parts import safe_href

EMPHASIS = {"strong": "**", "em": "*", "strike": "~~"}
HTML_MARKS = ("sub", "sup")
ALWAYS_ESCAPED = set("\\*_[]<`~")
_NEEDS_ESCAPE = re.compile(r"[\\*_\[\]<`~]")
# what `escape_text` may change away from a line start: the above, an entity, a newline
_MAY_NEED_ESCAPE = re.compile(r"[\\*_\[\]<`~&\n]")
ENTITY_LIKE = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
LINE_START_BLOCK = re.compile(r"([#>+=-])|([0-9]{1,9})([.)])")
PARSE_OPTIONS = (
    pyromark.Options.ENABLE_STRIKETHROUGH
    | pyromark.Options.ENABLE_FOOTNOTES
    | pyromark.Options.ENABLE_TABLES
)

CharKey = tuple[str, frozenset[str], str | None]


@by_identity()
def render_markdown(blocks: list[Block], footnotes: Sequence[Footnote] = ()) -> str:
    """The blocks as GFM, blocks separated by a blank line, footnote definitions last.

    Rendered once per essay and shared (pipeline/render/memo.py).
    """
    text = _join_blocks(blocks, tight=False)
    used = _referenced(blocks, footnotes)
    notes = [_definition(note) for note in footnotes if note.label in used]
    text = "\n\n".join(part for part in (text, *notes) if part)
    return text + "\n" if text else ""


def _referenced(blocks: list[Block], footnotes: Sequence[Footnote]) -> set[str]:
    """Labels referenced from the body or from notes (a definition nobody cites is dropped)."""
    labels: set[str] = set()
    every = [*walk(blocks), *(b for note in footnotes for b in walk(note.blocks))]
    for block in every:
        for content in _contents(block):
            labels.update(n.label for n in content if isinstance(n, NoteRef))
    return labels


def _contents(block: Block) -> list[Inline]:
    if isinstance(block, Heading | Paragraph):
        return [block.content]
    if isinstance(block, Table):
        return [cell.content for row in [block.header, *block.rows] for cell in row]
    return []


def _definition(note: Footnote) -> str:
    body = _join_blocks(note.blocks, tight=False)
    lines = body.split("\n") if body else [""]
    first = f"[^{note.label}]: {lines[0]}".rstrip()
    return "\n".join([first, *("    " + line if line else "" for line in lines[1:])])


# --- blocks ---------------------------------------------------------------------------


def _join_blocks(blocks: list[Block], *, tight: bool, in_item: bool = False) -> str:
    """Blocks one after another: on consecutive lines when `tight`, else a blank line apart.

    Two lists of one kind in a row would merge into one: the second switches its marker
    (`-`/`*`, `.`/`)`).
    """
    chunks: list[str] = []
    previous: Block | None = None
    alternate = False
    for block in blocks:
        alternate = _follows_same_kind(previous, block) and not alternate
        text = _block(
            block, alternate, tight_context=tight and previous is not None, in_item=in_item
        )
        if not text:
            continue
        if chunks:
            separator = "\n" if tight and not _needs_blank(previous, block) else "\n\n"
            chunks.append(separator)
        chunks.append(text)
        previous = block
    return "".join(chunks)


def _needs_blank(previous: Block | None, block: Block) -> bool:
    """True when `block` cannot follow `previous` on the next line without a blank line.

    A line of text right after a paragraph, list, quote or table would continue it (lazy
    continuation, or a table row); an ordered list not starting at 1, or one opening with
    an empty item, cannot interrupt a paragraph.
    """
    if previous is None:
        return False
    text_like = isinstance(block, Paragraph | Image | Table)
    if isinstance(previous, Quote) and isinstance(block, Quote):
        return True  # the second quote's lines would join the first
    if isinstance(previous, ListBlock | Quote | Table):
        return text_like
    if isinstance(previous, Paragraph | Image):
        if text_like:
            return True
        if isinstance(block, ListBlock):
            return (block.ordered and block.start != 1) or not _first_item_has_text(block)
    return False


def _first_item_has_text(block: ListBlock) -> bool:
    first = block.items[0] if block.items else None
    return first is not None and bool(first.blocks)


def tight_is_writable(block: ListBlock) -> bool:
    """A tight list can be written tight when no item needs a blank line inside it."""
    return all(
        not _needs_blank(a, b)
        for item in block.items
        for a, b in zip(item.blocks, item.blocks[1:], strict=False)
    )


def _block(
    block: Block, alternate: bool, *, tight_context: bool = False, in_item: bool = False
) -> str:
    if isinstance(block, Heading):
        content = [
            Run(text=r.text.replace("\n", " "), marks=r.marks, href=r.href)
            if isinstance(r, Run)
            else r
            for r in block.content
            if not isinstance(r, LineBreak)
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
        text = _join_blocks(block.blocks, tight=False)
        return "\n".join("> " + line if line else ">" for line in text.split("\n")) if text else ""
    if isinstance(block, Code):
        return _fenced(block)
    if isinstance(block, Image):
        return _image(block)
    if isinstance(block, Rule):
        # after a paragraph line `---` would make it a heading, and after a list marker
        # `- ---` or `* ***` is a rule of its own: `___` is neither
        return "___" if tight_context or in_item else "---"
    if isinstance(block, Table):
        return _table(block)
    return ""


def _list_lines(block: ListBlock, alternate: bool) -> list[str]:
    """A list's lines; each item's blocks are indented by its own marker's width."""
    tight = block.tight and tight_is_writable(block)
    lines: list[str] = []
    for index, item in enumerate(block.items):
        if block.ordered:
            marker = f"{block.start + index}{')' if alternate else '.'}"
        else:
            marker = "*" if alternate else "-"
        if index and not tight:
            lines.append("")
        lines.extend(_item_lines(item, marker, tight))
    return lines


def _item_lines(item: ListItem, marker: str, tight: bool) -> list[str]:
    indent = " " * (len(marker) + 1)
    body = _join_blocks(item.blocks, tight=tight, in_item=True)
    if item.checked is not None:
        body = ("[x] " if item.checked else "[ ] ") + body
    if not body:
        return [marker]
    first, *rest = body.split("\n")
    if first.startswith(("    ", "\t")) or (not first and rest):
        # an item cannot open with indented text or a blank line: start on the next line
        return [marker, *(indent + line if line else "" for line in [first, *rest])]
    return [f"{marker} {first}", *(indent + line if line else "" for line in rest)]


def _follows_same_kind(previous: Block | None, block: Block) -> bool:
    return (
        isinstance(block, ListBlock)
        and isinstance(previous, ListBlock)
        and previous.ordered == block.ordered
    )


def _fenced(block: Code) -> str:
    longest = max((len(m) for m in re.findall(r"`+", block.text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = block.text + "\n" if block.text else ""
    info = _info(block.language)
    if "`" in info:  # a backtick fence's info string cannot hold a backtick: use tildes
        longest = max((len(m) for m in re.findall(r"~+", block.text)), default=0)
        fence = "~" * max(3, longest + 1)
    return f"{fence}{info}\n{body}{fence}"


def _info(language: str | None) -> str:
    """The fence's info string: the language's first word, escaped to read back as it is."""
    word = (language or "").split()[0] if (language or "").strip() else ""
    word = word.replace("\\", "\\\\")
    return ENTITY_LIKE.sub(lambda m: "\\" + m.group(), word)


def _image(image: Image) -> str:
    img = _image_syntax(image.src, image.alt, image.caption)
    if not img:
        return ""
    href = safe_href(image.href) if image.href else None
    return f"[{img}]({_destination(href)})" if href else img


def _image_syntax(src: str, alt: str, title: str) -> str:
    safe = safe_href(src)
    if safe is None:
        return ""
    alt_text = escape_text(alt.replace("\n", " "), at_line_start=False)
    quoted = ""
    if title:
        quoted = title.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
        quoted = f' "{quoted}"'
    return f"![{alt_text}]({_destination(safe)}{quoted})"


def _table(table: Table) -> str:
    width = table.width()
    if width == 0:
        return ""
    header = table.header or [TableCell() for _ in range(width)]
    rules = []
    for index in range(width):
        align = table.align[index] if index < len(table.align) else None
        rules.append({"left": ":--", "center": ":-:", "right": "--:"}.get(align or "", "---"))
    lines = [_table_row(header, width), "| " + " | ".join(rules) + " |"]
    lines.extend(_table_row(row, width) for row in table.rows)
    return "\n".join(lines)


def _table_row(cells: list[TableCell], width: int) -> str:
    texts = []
    for index in range(width):
        content = cells[index].content if index < len(cells) else []
        # GFM splits a row at every unescaped `|`, inside code spans too
        texts.append(inline_markdown(content, in_table=True).replace("|", "\\|"))
    return "| " + " | ".join(texts) + " |"


# --- inline ----------------------------------------------------------------------------


def inline_markdown(content: Inline, *, in_table: bool = False) -> str:
    """Inline nodes as Markdown; emphasis is dropped only if it would not parse back."""
    content = _strip_ends(content)
    rendered = _inline(content, emphasis=True, in_table=in_table)
    if _plainly_safe(content):
        return rendered
    wanted = _chars(content)
    if wanted == _parsed_chars(rendered):
        return rendered
    # delimiters around a link can fail where they would hold inside its brackets
    inside = _inline(content, emphasis=True, in_table=in_table, hoist=False)
    if inside != rendered and wanted == _parsed_chars(inside):
        return inside
    return _inline(content, emphasis=False, in_table=in_table)


def _plainly_safe(content: Inline) -> bool:
    """True when CommonMark certainly reads the emphasis back, so no parse is needed.

    That holds when the paragraph is only text runs, every emphasised run stands alone
    (its neighbours carry no emphasis or code), has a single mark, and each of its
    delimiters touches a letter or digit inside, or whitespace (or the paragraph's edge)
    outside: the opening delimiter is then left-flanking and the closing one
    right-flanking. A link's edge counts as neither (a bracket stands there). Anything else
    is checked by parsing the rendered text back.
    """
    previous_emphasis = False
    for index, run in enumerate(content):
        if not isinstance(run, Run):
            return False
        emphasis = [m for m in run.marks if m in EMPHASIS]
        if not emphasis:
            previous_emphasis = False
            continue
        core = run.text.strip()
        if previous_emphasis or len(emphasis) > 1 or "code" in run.marks or not core:
            return False
        if any(m in HTML_MARKS for m in run.marks) or run.href:
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
    """Drop leading and trailing whitespace: Markdown parsers strip it from every block
    (a code span's own spaces are part of the code and stay)."""
    return trim([n for n in content if not isinstance(n, Run) or n.text])


def _link_groups(content: Inline) -> list[tuple[str | None, list[InlineNode]]]:
    """Consecutive nodes sharing a (safe) link target; a break stays in the link around it."""
    groups: list[tuple[str | None, list[InlineNode]]] = []
    for node in content:
        if isinstance(node, LineBreak | NoteRef):
            href = groups[-1][0] if groups and isinstance(node, LineBreak) else None
        else:
            href = safe_href(node.href) if node.href else None
        if groups and groups[-1][0] == href:
            groups[-1][1].append(node)
        else:
            _move_trailing_breaks_out(groups)
            groups.append((href, [node]))
    _move_trailing_breaks_out(groups)
    return groups


def _move_trailing_breaks_out(groups: list[tuple[str | None, list[InlineNode]]]) -> None:
    """A break that ends a link's text goes after the link: `[a\\` + newline + `](u)` is no
    line break in CommonMark."""
    if not groups or groups[-1][0] is None:
        return
    nodes = groups[-1][1]
    trailing: list[InlineNode] = []
    while len(nodes) > 1 and isinstance(nodes[-1], LineBreak):
        trailing.insert(0, nodes.pop())
    if trailing:
        groups.append((None, trailing))


@dataclass(frozen=True)
class _Link:
    """A link in the emphasis stream: the delimiters its runs all share go around it."""

    href: str
    nodes: list[InlineNode]
    hoist: bool = True  # False: every delimiter stays inside the brackets

    @property
    def marks(self) -> tuple[str, ...]:
        runs = [n for n in self.nodes if isinstance(n, Run)]
        if not runs or not self.hoist:
            return ()
        return tuple(m for m in EMPHASIS if all(m in run.marks for run in runs))


_Item = InlineNode | _Link


def _inline(content: Inline, *, emphasis: bool, in_table: bool = False, hoist: bool = True) -> str:
    if not emphasis:
        # Without delimiters, neighbouring code runs must join, or "`a``b`" reads as one span.
        content = [
            n.model_copy(update={"marks": tuple(m for m in n.marks if m not in EMPHASIS)})
            if isinstance(n, Run)
            else n
            for n in content
        ]
    items: list[_Item] = []
    for href, nodes in _link_groups(merge_runs(content)):
        if href is None:
            items.extend(nodes)
        else:
            items.append(_Link(href, nodes, hoist))
    text = _emit(items, emphasis=emphasis, at_line_start=True)
    if in_table:
        text = text.replace("\\\n", "<br>")  # a table cell is one line
    return text


def _lasting(items: list[_Item], start: int, mark: str) -> int:
    """How many items from `start` on carry `mark` without a break."""
    count = 0
    for item in items[start:]:
        if mark not in getattr(item, "marks", ()):
            break
        count += 1
    return count


def _emit(items: list[_Item], *, emphasis: bool, at_line_start: bool) -> str:
    """Items with emphasis delimiters; whitespace is kept outside a delimiter it touches.

    A delimiter already open stays open while the next item keeps its mark, and of the
    ones opening together the longest-lasting goes outside, so `*a **b** c*` nests.
    """
    out: list[str] = []
    stack: list[str] = []
    pending = ""
    pending_marks: set[str] = set()  # the marks the pending whitespace itself carries

    def text(value: str) -> str:
        starts = at_line_start
        for piece in reversed(out):
            if piece:
                starts = piece.endswith("\n")
                break
        return escape_text(value, at_line_start=starts)

    def switch_to(want: list[str], lead: str) -> None:
        nonlocal stack, pending
        if not stack and not want and not pending and not lead:
            return  # plain text after plain text: nothing to close, open or flush
        keep = 0
        while (
            keep < min(len(stack), len(want))
            and stack[keep] == want[keep]
            and (not pending or stack[keep] in pending_marks)
        ):
            keep += 1
        for mark in reversed(stack[keep:]):
            out.append(EMPHASIS[mark])
        if pending + lead:
            out.append(text(pending + lead))
        pending = ""
        for mark in want[keep:]:
            out.append(EMPHASIS[mark])
        stack = want

    def wanted(index: int, marks: tuple[str, ...]) -> list[str]:
        if not emphasis or not marks:
            return []
        kept = [m for m in stack if m in marks]
        new = [m for m in EMPHASIS if m in marks and m not in stack]
        if len(new) > 1:
            new.sort(key=lambda m: -_lasting(items, index, m))
        return kept + new

    for index, item in enumerate(items):
        if isinstance(item, _Link):
            switch_to(wanted(index, item.marks), "")
            inner_nodes = [
                n.model_copy(update={"marks": tuple(m for m in n.marks if m not in stack)})
                if isinstance(n, Run) and any(m in stack for m in n.marks)
                else n  # a copy only where a mark moves outside the brackets
                for n in item.nodes
            ]
            inner = _emit(inner_nodes, emphasis=emphasis, at_line_start=False)
            out.append(f"[{inner}]({_destination(item.href)})")
            continue
        if not isinstance(item, Run):
            switch_to([], "")
            out.append(_inline_node(item))
            continue
        run = item
        is_code = "code" in run.marks
        if not is_code and not run.text.strip():
            pending_marks = set(run.marks) & pending_marks if pending else set(run.marks)
            pending += run.text
            continue
        if is_code:
            lead, core, trail = "", run.text, ""
        else:
            stripped = run.text.strip()
            start = run.text.index(stripped)
            lead, core, trail = run.text[:start], stripped, run.text[start + len(stripped) :]
        switch_to(wanted(index, run.marks), lead)
        if is_code:
            piece = code_span(core) if "\n" not in core else _code_with_newlines(core)
        else:
            piece = text(core)
        for mark in reversed([m for m in HTML_MARKS if m in run.marks]):
            piece = f"<{mark}>{piece}</{mark}>"
        out.append(piece)
        pending, pending_marks = trail, set(run.marks)
    switch_to([], "")
    return "".join(out)


def _code_with_newlines(text: str) -> str:
    """A code span cannot hold a newline character: split it, the newline as an entity."""
    return "&#10;".join(code_span(part) if part else "" for part in text.split("\n"))


def _inline_node(node: InlineNode) -> str:
    if isinstance(node, LineBreak):
        return "\\\n"
    if isinstance(node, NoteRef):
        return f"[^{node.label}]"
    if isinstance(node, InlineImage):
        return _image_syntax(node.src, node.alt, node.title)
    return ""


def escape_text(text: str, *, at_line_start: bool) -> str:
    """Backslash-escape what Markdown would read as syntax; a newline character (not a line
    break, which is a node of its own) is written as `&#10;`."""
    if not at_line_start and not _MAY_NEED_ESCAPE.search(text) and not text.endswith("!"):
        return text  # most words mid-line: nothing below would change them
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
        if number == 0 and at_line_start:
            escaped = _escape_line_start(escaped)
        lines.append(escaped)
    return "&#10;".join(lines)


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


def _chars(content: Inline) -> list[CharKey]:
    """What a reader sees, character by character: emphasis on blank space is invisible."""
    keys: list[CharKey] = []
    for href, nodes in _link_groups(content):
        link = encode_url(href) if href else None
        for node in nodes:
            if isinstance(node, LineBreak):
                keys.append(("\n", frozenset(), link))
            elif isinstance(node, NoteRef):
                keys.append(("\x00note:" + node.label, frozenset(), None))
            elif isinstance(node, InlineImage):
                keys.append(("\x00img:" + encode_url(node.src), frozenset(), link))
            else:
                is_code = "code" in node.marks
                for ch in node.text:
                    marks = frozenset(node.marks)
                    if not is_code and ch.isspace():
                        marks = frozenset(m for m in marks if m in HTML_MARKS)
                    keys.append((ch, marks, link))
    return keys


_EVENT_MARKS = {"Emphasis": "em", "Strong": "strong", "Strikethrough": "strike"}
_HTML_TAG = re.compile(r"<(/?)(sub|sup)>")


def _parsed_chars(markdown: str) -> list[CharKey] | None:
    """The characters pulldown-cmark reads from `markdown`, or None if it reads a block."""
    labels = re.findall(r"(?<!\\)\[\^([^\]\s\\]+)\]", markdown)
    definitions = "".join(f"\n\n[^{label}]: x" for label in dict.fromkeys(labels))
    events = pyromark.events(markdown + definitions, options=PARSE_OPTIONS)
    keys: list[CharKey] = []
    marks: list[str] = []
    href: str | None = None
    image: str | None = None
    depth = 0
    for event in events:
        if isinstance(event, str):
            if event == "HardBreak" and image is None:
                keys.append(("\n", frozenset(), href))
            elif event != "SoftBreak":
                return None
            continue
        ((kind, value),) = event.items()
        name = value if isinstance(value, str) else next(iter(value), None)
        if kind in ("Start", "End") and name == "FootnoteDefinition":
            return keys if kind == "Start" and depth == 0 else None
        if kind == "Start":
            if name == "Paragraph":
                depth += 1
                if depth > 1:
                    return None
            elif name in _EVENT_MARKS:
                marks.append(_EVENT_MARKS[name])
            elif name == "Link":
                href = value["Link"]["dest_url"]
            elif name == "Image":
                image = value["Image"]["dest_url"]
            else:
                return None
        elif kind == "End":
            if name in _EVENT_MARKS:
                marks.remove(_EVENT_MARKS[name])
            elif name == "Link":
                href = None
            elif name == "Image":
                keys.append(("\x00img:" + encode_url(image or ""), frozenset(), href))
                image = None
            elif name == "Paragraph":
                return keys  # what follows is the footnote definitions added above
        elif image is not None:
            continue
        elif kind == "FootnoteReference":
            keys.append(("\x00note:" + value, frozenset(), None))
        elif kind == "InlineHtml" and (tag := _HTML_TAG.fullmatch(value)):
            if tag.group(1):
                marks.remove(tag.group(2))
            else:
                marks.append(tag.group(2))
        elif kind in ("Text", "Code"):
            code = kind == "Code"
            link = encode_url(href) if href else None
            for ch in value:
                mark_set = frozenset([*marks, "code"] if code else marks)
                if not code and ch.isspace():
                    mark_set = frozenset(m for m in marks if m in HTML_MARKS)
                keys.append((ch, mark_set, link))
        else:
            return None
    return keys
