"""Which parts of an essay each audience gets."""

from __future__ import annotations

from pipeline.document import Essay, ListBlock, Paragraph, RelatedLink, Rule, Run
from pipeline.render.parts import blocks_for, promo_links_to_patreon, safe_href

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
