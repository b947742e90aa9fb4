"""Which parts of an essay each audience gets."""

from __future__ import annotations

from pipeline.document import (
    Essay,
    InlineImage,
    LineBreak,
    ListBlock,
    ListItem,
    NoteRef,
    Paragraph,
    Quote,
    RelatedLink,
    Rule,
    Run,
    Table,
    TableCell,
)
from pipeline.render.parts import (
    block_runs,
    blocks_for,
    link_groups,
    promo_links_to_patreon,
    safe_href,
    table_rows,
)

BODY = [Paragraph(content=[Run(text="The essay itself.")])]
PATREON_PROMO = [
    Paragraph(
        content=[
            Run(text="Support me "),
            Run(text="on Patreon", href="https://www.patreon.com/someone"),
        ]
    )
]
NEWSLETTER_PROMO = [
    Paragraph(content=[Run(text="Subscribe", href="https://someone.substack.com/subscribe")])
]
RELATED = [
    RelatedLink(title="Earlier post", url="https://blog.example.com/earlier"),
    RelatedLink(title="Lost link"),
]


def essay(promo: list) -> Essay:
    return Essay(title="T", blocks=BODY, promo=promo, related=RELATED)


def texts(blocks: list) -> list[str]:
    out = []
    for block in blocks:
        if isinstance(block, Paragraph):
            out.append("".join(r.text for r in block.content))
        elif isinstance(block, ListBlock):
            out.extend("".join(r.text for r in item.content) for item in block.items)
    return out


def test_blog_keeps_body_promo_and_related_in_reading_order() -> None:
    blocks = blocks_for(essay(PATREON_PROMO), "blog")
    assert texts(blocks) == [
        "The essay itself.",
        "Support me on Patreon",
        "Earlier post",
        "Lost link",
    ]
    assert isinstance(blocks[2], Rule)


def test_related_titles_link_only_when_the_url_is_known() -> None:
    related = blocks_for(essay([]), "blog")[-1]
    assert isinstance(related, ListBlock)
    assert [item.content[0].href for item in related.items] == [
        "https://blog.example.com/earlier",
        None,
    ]


def test_patronage_drops_a_promo_that_invites_readers_to_patreon() -> None:
    blocks = blocks_for(essay(PATREON_PROMO), "patronage")
    assert texts(blocks) == ["The essay itself.", "Earlier post", "Lost link"]


def test_patronage_keeps_a_promo_for_somewhere_else() -> None:
    blocks = blocks_for(essay(NEWSLETTER_PROMO), "patronage")
    assert "Subscribe" in texts(blocks)


def test_social_gets_the_body_only() -> None:
    blocks = blocks_for(essay(PATREON_PROMO), "social")
    assert texts(blocks) == ["The essay itself."]
    assert not any(isinstance(b, Rule | ListBlock) for b in blocks)


def test_no_related_means_no_trailing_rule() -> None:
    plain = Essay(title="T", blocks=BODY)
    assert blocks_for(plain, "blog") == BODY


def test_patreon_is_recognised_by_host_not_by_substring() -> None:
    def promo(url: str) -> list:
        return [Paragraph(content=[Run(text="x", href=url)])]

    assert promo_links_to_patreon(promo("https://patreon.com/u"))
    assert promo_links_to_patreon(promo("https://www.patreon.com/u"))
    assert not promo_links_to_patreon(promo("https://notpatreon.com/u"))
    assert not promo_links_to_patreon(promo("https://example.com/?ref=patreon.com"))


def test_safe_href_refuses_script_and_data_urls() -> None:
    assert safe_href("javascript:alert(1)") is None
    assert safe_href(" JaVaScRiPt:alert(1)") is None
    assert safe_href("java\tscript:alert(1)") is None
    assert safe_href("data:text/html,<script>") is None
    assert safe_href("https://example.com/a_(b)") == "https://example.com/a_(b)"
    assert safe_href("mailto:me@example.com") == "mailto:me@example.com"
    assert safe_href("/about") == "/about"
    assert safe_href("/about", allow_relative=False) is None


def test_block_runs_walk_every_depth_and_table_cells() -> None:
    block = Quote(
        blocks=[
            ListBlock(
                items=[
                    ListItem(
                        blocks=[
                            Paragraph(content=[Run(text="a")]),
                            Quote(blocks=[Paragraph(content=[Run(text="b")])]),
                        ]
                    )
                ]
            ),
            Table(rows=[[TableCell(content=[Run(text="c")])]]),
        ]
    )
    assert [node.text for node in block_runs(block)] == ["a", "b", "c"]


def test_a_promo_linking_to_patreon_deep_inside_a_list_or_through_an_image_is_found() -> None:
    nested = ListBlock(
        items=[
            ListItem(
                blocks=[
                    Paragraph(content=[Run(text="more")]),
                    ListBlock(
                        items=[ListItem(content=[Run(text="me", href="https://patreon.com/me")])]
                    ),
                ]
            )
        ]
    )
    assert promo_links_to_patreon([nested])
    image = InlineImage(src="https://e.x/b.png", href="https://www.patreon.com/me")
    assert promo_links_to_patreon([Paragraph(content=[image])])


def test_related_posts_are_items_holding_a_paragraph() -> None:
    items = blocks_for(Essay(title="T", related=RELATED), "blog")[-1].items
    assert all(isinstance(item.blocks[0], Paragraph) for item in items)


def test_link_groups_keep_every_mark_and_non_text_nodes_in_place() -> None:
    content = [
        Run(text="a", marks=("sup", "strike", "strong"), href="https://e.x"),
        InlineImage(src="https://e.x/i.png", href="https://e.x"),
        LineBreak(),
        NoteRef(label="1"),
        InlineImage(src="https://e.x/i.png", href="javascript:alert(1)"),
    ]
    groups = link_groups(content)
    assert groups[0][0] == "https://e.x"
    assert groups[0][1][0].marks == ("strong", "strike", "sup")
    assert isinstance(groups[0][1][1], InlineImage)
    assert [type(nodes[0]) for _, nodes in groups[1:]] == [LineBreak, NoteRef, InlineImage]
    assert groups[-1][1][0].href is None  # an unsafe image link is dropped, the image kept


def test_table_rows_pair_each_cell_with_its_column_header_and_skip_empty_cells() -> None:
    def cell(text: str) -> TableCell:
        return TableCell(content=[Run(text=text)] if text else [])

    table = Table(
        header=[cell("A"), cell("")], rows=[[cell("1"), cell("2"), cell("3")], [cell("")]]
    )
    assert [[(h and h[0].text, c[0].text) for h, c in row] for row in table_rows(table)] == [
        [("A", "1"), (None, "2"), (None, "3")],
        [],
    ]
