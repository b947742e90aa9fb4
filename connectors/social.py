"""The texts of a social publication: the announcement (default) or a thread.

Every social connector shapes its posts the same way from the account's and the essay's
options (`mode`, `template`, `hashtag_style`, `numbered`); only the request around each
text differs, and that stays in the platform's module.
"""

from __future__ import annotations

from connectors.base import Rejected, RenderContext
from pipeline.document import Essay
from pipeline.render import composer
from pipeline.render.lengths import LengthRule


def social_texts(
    platform: str,
    essay: Essay,
    ctx: RenderContext,
    rule: LengthRule,
    default_template: str = composer.DEFAULT_TEMPLATE,
) -> list[str]:
    """One text per post, each within `rule`; an essay that cannot fit is `Rejected`."""
    options = ctx.options
    link = ctx.link or essay.canonical_url
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
