"""Hypothesis strategies for essays shaped like the tree model: blocks nested to any depth.

Reusable by any renderer's property tests. Words are short and have no spaces, so a test
can check that an output keeps every word, in order, by comparing word sequences; the
vocabulary mixes scripts, emoji and URL-like words, because those are what platforms count
differently. Footnotes are made for exactly the labels the body references, in the order
of first reference (the model's promise).
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from pipeline.document import (
    Block,
    Code,
    Essay,
    Footnote,
    Heading,
    Image,
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
    walk,
)

WORDS = [
    "the",
    "essay",
    "writes",
    "itself.",
    "Why?",
    "naïve",
    "über",
    "Привет",
    "שלום",
    "हिन्दी",
    "日本語",
    "文章を書く。",
    "한국어",
    "😀",
    "👍🏽",
    "❤️",
    "“quoted”",
    "(aside)",
    "—",
    "3.14",
    "1999",
    "example.org",
    "https://example.com/a",
    "a&b",
    "<tag>",
    "x|y",
    "#hash",
    "*star*",
]
NOTE_LABELS = ["1", "2", "note"]
SAFE_LINKS = ["https://example.com/page", "https://ex.org/a?b=1&c=2", "mailto:me@example.com"]


def para(*nodes: InlineNode) -> Paragraph:
    """A paragraph of the given inline nodes (for hand-written examples)."""
    return Paragraph(content=list(nodes))


word = st.sampled_from(WORDS)
words = st.lists(word, min_size=1, max_size=8).map(" ".join)
marks = st.lists(st.sampled_from(["strong", "em", "code", "strike", "sub", "sup"]), max_size=3)

run = st.builds(
    lambda text, m, href: Run(text=text, marks=tuple(dict.fromkeys(m)), href=href),
    words,
    marks,
    st.one_of(st.none(), st.none(), st.sampled_from([*SAFE_LINKS, "javascript:alert(1)"])),
)
inline_node: st.SearchStrategy[InlineNode] = st.one_of(
    run,
    run,
    run,
    st.just(LineBreak()),
    st.builds(
        InlineImage,
        src=st.sampled_from(["https://example.com/i.png", "/local.png"]),
        alt=st.one_of(st.just(""), words),
        href=st.one_of(st.none(), st.sampled_from(SAFE_LINKS)),
    ),
    st.sampled_from(NOTE_LABELS).map(lambda label: NoteRef(label=label)),
)
# Words separated by a space between neighbouring runs, as a writer's text would be.
inline = st.lists(inline_node, min_size=1, max_size=6).map(
    lambda nodes: [
        Run(text=n.text + " ", marks=n.marks, href=n.href) if isinstance(n, Run) else n
        for n in nodes
    ]
)

cell = st.builds(TableCell, content=st.one_of(st.just([]), inline))
table = st.integers(1, 3).flatmap(
    lambda width: st.builds(
        Table,
        header=st.one_of(st.just([]), st.lists(cell, min_size=width, max_size=width)),
        rows=st.lists(st.lists(cell, min_size=1, max_size=width), max_size=3),
    )
)

leaf: st.SearchStrategy[Block] = st.one_of(
    st.builds(Paragraph, content=inline),
    st.builds(Paragraph, content=inline),
    st.builds(Heading, level=st.integers(1, 6), content=inline),
    st.builds(Code, language=st.sampled_from([None, "python"]), text=words),
    st.builds(
        Image,
        src=st.just("https://example.com/photo.jpg"),
        alt=st.one_of(st.just(""), words),
        caption=st.one_of(st.just(""), words),
        href=st.one_of(st.none(), st.sampled_from(SAFE_LINKS)),
    ),
    st.just(Rule()),
    table,
)


def _nest(children: st.SearchStrategy[Block]) -> st.SearchStrategy[Block]:
    blocks = st.lists(children, min_size=0, max_size=3)
    item = st.builds(ListItem, blocks=blocks, checked=st.sampled_from([None, None, True, False]))
    return st.one_of(
        st.builds(Quote, blocks=blocks),
        st.builds(
            ListBlock,
            ordered=st.booleans(),
            start=st.integers(0, 12),
            tight=st.booleans(),
            items=st.lists(item, min_size=1, max_size=3),
        ),
    )


block: st.SearchStrategy[Block] = st.recursive(leaf, _nest, max_leaves=8)


def inline_nodes_of(blocks: list[Block]) -> list[InlineNode]:
    """Every inline node of the blocks, nested ones and table cells included, in order."""
    nodes: list[InlineNode] = []
    for inner in walk(blocks):
        if isinstance(inner, Paragraph | Heading):
            nodes.extend(inner.content)
        elif isinstance(inner, Table):
            nodes.extend(n for row in [inner.header, *inner.rows] for c in row for n in c.content)
    return nodes


def _with_footnotes(essay: Essay, note_bodies: list[list[Block]]) -> Essay:
    labels = list(
        dict.fromkeys(n.label for n in inline_nodes_of(essay.blocks) if isinstance(n, NoteRef))
    )
    essay.footnotes = [
        Footnote(label=label, blocks=note_bodies[i % len(note_bodies)])
        for i, label in enumerate(labels)
    ]
    return essay


title = st.lists(word, min_size=1, max_size=10).map(" ".join)

nested_essays: st.SearchStrategy[Essay] = st.builds(
    _with_footnotes,
    st.builds(
        Essay,
        title=title,
        subtitle=st.one_of(st.none(), words),
        tags=st.lists(st.sampled_from(["writing", "machine learning", "日本語"]), max_size=3),
        blocks=st.lists(block, min_size=1, max_size=4),
    ),
    st.lists(
        st.lists(st.builds(Paragraph, content=inline), min_size=1, max_size=2),
        min_size=1,
        max_size=3,
    ),
)


# ---------------------------------------------------------------- what a reader must still see


def inline_words(content: list[InlineNode]) -> list[str]:
    """The words of inline content: runs joined as written, a break or an image's alt text
    standing apart, a note reference adding nothing."""
    text: list[str] = []
    for node in content:
        if isinstance(node, Run):
            text.append(node.text)
        elif isinstance(node, LineBreak):
            text.append(" ")
        elif isinstance(node, InlineImage):
            text.append(f" {node.alt} ")
    return "".join(text).split()


def block_words(block: Block) -> list[str]:
    """The words of a block and everything nested in it, in reading order. An image is its
    caption (else alt text); a table is its body cells row by row (its header row when it
    has no body)."""
    if isinstance(block, Paragraph | Heading):
        return inline_words(block.content)
    if isinstance(block, Quote):
        return [w for b in block.blocks for w in block_words(b)]
    if isinstance(block, ListBlock):
        return [w for item in block.items for b in item.blocks for w in block_words(b)]
    if isinstance(block, Code):
        return block.text.split()
    if isinstance(block, Image):
        return (block.caption or block.alt).split()
    if isinstance(block, Table):
        rows = block.rows or [block.header]
        return [w for row in rows for cell in row for w in inline_words(cell.content)]
    return []


def essay_words(blocks: list[Block], footnotes: Sequence[Footnote] = ()) -> list[str]:
    """The words of the blocks, then of the footnotes."""
    body = [w for b in blocks for w in block_words(b)]
    return body + [w for note in footnotes for b in note.blocks for w in block_words(b)]


def keeps_in_order(expected: list[str], tokens: list[str]) -> list[str]:
    """The expected words `tokens` does not hold in order ([] when all are there): each must
    be a whole token, so a word glued to another ("year1") counts as missing."""
    position = 0
    for index, want in enumerate(expected):
        while position < len(tokens) and tokens[position] != want:
            position += 1
        if position == len(tokens):
            return expected[index:]
        position += 1
    return []


def label_tokens(text: str) -> list[str]:
    """Words of a text output, its "[1]" and "[image: …]" labels' brackets taken apart
    (no vocabulary word holds a square bracket)."""
    return text.replace("[", " ").replace("]", " ").split()
