"""The texts of a social publication: the announcement (default) or a thread.

Every social connector shapes its posts the same way from the account's and the essay's
options (`mode`, `template`, `hashtag_style`, `numbered`); only the request around each
text differs, and that stays in the platform's module. `SocialConnector` is the base the
social platforms share: their kind, and their length rule looked up by platform name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from connectors.base import Connector, Kind, RenderContext
from connectors.errors import Rejected
from pipeline.document import Essay
from pipeline.render import composer
from pipeline.render.lengths import RULES, LengthRule


class SocialConnector(Connector):
    """A social platform: short texts made by the composer, within the platform's limit."""

    kind: ClassVar[Kind] = Kind.SOCIAL

    @classmethod
    def length_rule(cls, ctx: RenderContext | None = None) -> LengthRule:
        """The platform's own rule from `pipeline.render.lengths.RULES`."""
        return RULES[cls.platform]


def social_texts(
    platform: str,
    essay: Essay,
    ctx: RenderContext,
    rule: LengthRule,
    default_template: str = composer.DEFAULT_TEMPLATE,
    link_text: Callable[[str], str] = str,
) -> list[str]:
    """One text per post, each within `rule`; an essay that cannot fit is `Rejected`.

    `link_text` is how the link shows in the text (Bluesky shows a shortened one). With a
    `link_slot` the texts are composed around the placeholder preview showed, then the real
    link replaces it: the same teaser, as long as the real link is no longer than the slot.
    """
    link = ctx.link or essay.canonical_url
    shown = link_text(link) if link else None
    if ctx.link_slot:
        held = link_text(ctx.link_slot)
        texts = _compose(platform, essay, ctx, rule, default_template, held)
        if shown is None or shown == held:
            return texts
        filled = [text.replace(held, shown, 1) for text in texts]
        if all(rule.fits(text) for text in filled):
            return filled
    return _compose(platform, essay, ctx, rule, default_template, shown)


def _compose(
    platform: str,
    essay: Essay,
    ctx: RenderContext,
    rule: LengthRule,
    default_template: str,
    link: str | None,
) -> list[str]:
    options = ctx.options
    try:
        if options.get("mode", "announcement") == "thread":
            return composer.thread(essay, link, rule, numbered=bool(options.get("numbered", True)))
        text = composer.announcement(
            essay,
            link,
            rule,
            template=options.get("template") or default_template,
            hashtag_style=options.get("hashtag_style") or "camel",
        )
        return [text]
    except ValueError as exc:
        raise Rejected(f"{platform}: {exc}") from exc
