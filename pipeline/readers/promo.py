"""Find the author's call to action at the end of an essay and move it out of the body.

Each destination decides whether to show the promo (a Patreon post drops "join my Patreon"),
so it must not stay mixed into the body. Detection is deliberately conservative: only the
trailing paragraphs are looked at, and a paragraph counts only when its wording is a call to
action or the author's own offer, *and* it points somewhere (a membership platform, or any
link next to strong wording such as "subscribe").
"""

from __future__ import annotations

import re

from pipeline.document import Block, Paragraph, plain

MEMBERSHIP_SITES = (
    "patreon.com",
    "buymeacoffee.com",
    "ko-fi.com",
    "substack.com",
    "liberapay.com",
    "opencollective.com",
    "github.com/sponsors",
    "paypal.me",
    "memberful.com",
)

# Next to a membership link, call-to-action wording or the author speaking of their own
# things ("my spreadsheet is on Patreon") makes a paragraph a promo; a sentence *about*
# the platform ("Patreon raised its fees") does not.
_CALL_WORDS = re.compile(
    r"\b(?:subscrib\w*|support\w*|join\w*|patrons?|members?(?:hip)?|become a \w+|check out"
    r"|buy me a coffee|tips?|enjoy\w*|helped|found this useful|more (?:on|at))\b",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(r"\bI\b|\b(?i:me|my|mine|our)\b")
# Wording strong enough to count with any link, or with no link just before a promo.
_STRONG_CALL = re.compile(
    r"\b(?:subscribe\b|support (?:my|this|our) (?:work|writing|blog|newsletter)|support me\b"
    r"|become a (?:patron|member|paid subscriber|supporter)|buy me a coffee"
    r"|if (?:you(?:'|’)re|you are) enjoying|if (?:this|it) helped|if you (?:enjoyed|liked)"
    r"|join (?:my|our|the) (?:newsletter|community|patreon|mailing list))",
    re.IGNORECASE,
)


def _links(block: Paragraph) -> list[str]:
    return [run.href for run in block.content if run.href]


def _mentions_membership(block: Paragraph) -> bool:
    haystack = " ".join([plain(block.content), *_links(block)]).lower()
    return any(site in haystack for site in MEMBERSHIP_SITES)


def is_promo(block: Block) -> bool:
    """True for a paragraph that asks readers to pay, join or subscribe, and says where."""
    if not isinstance(block, Paragraph):
        return False
    text = plain(block.content)
    if _mentions_membership(block):
        only_link = all(run.href for run in block.content if run.text.strip())
        return only_link or bool(_CALL_WORDS.search(text) or _FIRST_PERSON.search(text))
    return bool(_links(block)) and bool(_STRONG_CALL.search(text))


def split_promo(blocks: list[Block]) -> tuple[list[Block], list[Block]]:
    """(body, promo): trailing promo paragraphs moved out, in their original order.

    A paragraph with strong call-to-action wording but no link joins the promo only when
    it directly precedes one ("If you enjoy this…" then a bare Patreon link). The body is
    never emptied: an essay that is nothing but a call to action keeps it as its body.
    """
    cut = len(blocks)
    while cut > 0 and is_promo(blocks[cut - 1]):
        cut -= 1
    if cut < len(blocks):
        while (
            cut > 0
            and isinstance(blocks[cut - 1], Paragraph)
            and _STRONG_CALL.search(plain(blocks[cut - 1].content))
        ):
            cut -= 1
    if cut == 0:
        return list(blocks), []
    return list(blocks[:cut]), list(blocks[cut:])
