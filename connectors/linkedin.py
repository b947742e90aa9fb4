"""LinkedIn (Posts API): the essay announced as a member's post with an article card.

Why it looks like this:
- Every `/rest/` call carries `LinkedIn-Version: YYYYMM` and `X-Restli-Protocol-Version:
  2.0.0`; auth is the member's token (`access_token`). LinkedIn publishes a version every
  month and serves each for at least a year, then answers 426. So the version follows the
  calendar (`version_for`: two months back, old enough to be live everywhere, far from
  its sunset) unless option `version` pins one; a 426 names the version and the fix.
- Member tokens last 60 days and only approved marketing partners get refresh tokens, so
  crosspost cannot renew one: it warns 7 days and 1 day ahead (`pipeline/accounts.py`).
- The author is option `author` (`urn:li:person:…` or an organization) or the token's own
  member, `urn:li:person:<sub>` from `GET /v2/userinfo`, filled in at publish time.
- `commentary` is "little" text: every reserved character is escaped, because LinkedIn cuts
  a post at the first unescaped one (a title with "(draft)" would end at "("). Hashtags are
  little templates, `{hashtag|\\#|Tag}`. The 3,000-character limit is counted on the
  visible text (escapes removed, `#Tag` for a hashtag), which is what the composer fits.
- With a link the post gets an article card (`content.article` with source, title and the
  teaser as description: LinkedIn does not scrape the page), and the default template leaves
  the URL out of the text because the card carries it. No thumbnail: it needs an image upload.
- LinkedIn has no threads: `mode: thread` posts the opening of the essay (title, link, as
  many whole sentences as fit) as one long post.
- No idempotency key: a retry in doubt lists the author's newest posts (`q=author`) and
  matches the visible text. A repeat that LinkedIn itself calls a duplicate (422 "Content is
  a duplicate of urn:li:share:…") names the existing post, which we return.
- Rate limits are daily quotas reset at 00:00 UTC, without a wait header: RateLimited waits
  until then unless the answer says otherwise (`Retry-After`).
- `update` changes the commentary in place (PARTIAL_UPDATE); the article card cannot change.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests

from connectors.base import (
    Dedupe,
    Draft,
    Post,
    Remote,
    RenderContext,
    TokenLife,
)
from connectors.errors import (
    Answer,
    ErrorQuirks,
    Rejected,
    Rule,
    Says,
    Transient,
    header_wait,
)
from connectors.social import SocialConnector, social_texts
from pipeline.document import Essay
from pipeline.render import composer
from pipeline.render.hashtags import hashtags
from pipeline.render.linkedin_text import escape_little, little_hashtag

TOKEN_LIFE = TokenLife(
    credential="access_token",
    lifetime=timedelta(days=60),
    source="LinkedIn documents member access tokens as valid for 60 days; programmatic "
    "refresh tokens are for approved Marketing Developer Platform partners only",
)
VISIBILITIES = ("PUBLIC", "CONNECTIONS")
CARD_TEMPLATE = "{title}\n\n{teaser}\n\n{hashtags}"  # the article card carries the link
SCAN_COUNT = 20
_DUPLICATE = re.compile(r"duplicate of (urn:li:(?:share|ugcPost):\d+)")
_LITTLE_HASHTAG = re.compile(r"\{hashtag\|\\#\|((?:\\.|[^{}|\\])+)\}")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


class LinkedIn(SocialConnector):
    platform = "linkedin"
    dedupe = Dedupe.LOOKUP
    can_edit = True
    default_base_url = "https://api.linkedin.com"
    errors = ErrorQuirks(
        words=lambda answer: _error_text(answer),
        wait=lambda answer: _quota_wait(answer),
        says=Says(auth="{what}: the access token was refused", rate="{what}: daily quota reached"),
        transient=(),
        refusals=(
            Rule(
                Rejected,
                statuses=(426,),
                says="{what}: LinkedIn no longer serves API version {version}",
                next_step="{upgrade_step}",
            ),
        ),
    )

    _member: dict[str, Any] | None = None  # the signed-in member, asked once

    # -- pure half -------------------------------------------------------

    @classmethod
    def render(cls, essay: Essay, ctx: RenderContext) -> Draft:
        options = ctx.options
        visibility = str(options.get("visibility", "PUBLIC")).upper()
        if visibility not in VISIBILITIES:
            raise Rejected(
                f"linkedin: option visibility must be one of {', '.join(VISIBILITIES)}, "
                f"not {options.get('visibility')!r}"
            )
        rule = cls.length_rule(ctx)
        link = ctx.link or essay.canonical_url
        # LinkedIn has no threads: `mode: thread` posts the thread's first part, unnumbered
        single = {**options, "numbered": False} if options.get("mode") == "thread" else options
        default = CARD_TEMPLATE if link else composer.DEFAULT_TEMPLATE
        text = social_texts(
            "linkedin", essay, replace(ctx, options=single), rule, default_template=default
        )[0]
        body: dict[str, Any] = {}
        if options.get("author"):
            body["author"] = str(options["author"])
        body.update(
            {
                "commentary": to_little(
                    text, hashtags(essay.tags, options.get("hashtag_style") or "camel")
                ),
                "visibility": visibility,
                "distribution": {
                    "feedDistribution": "MAIN_FEED",
                    "targetEntities": [],
                    "thirdPartyDistributionChannels": [],
                },
                "lifecycleState": "PUBLISHED",
                "isReshareDisabledByAuthor": False,
            }
        )
        if link:
            article = {"source": link, "title": essay.title.strip() or link}
            teaser = composer.teaser_of(essay)
            if teaser:
                article["description"] = teaser
            body["content"] = {"article": article}
        post = Post(request=body, text=text, length=rule.count(text), limit=rule.limit)
        return cls.draft(essay, ctx, [post])

    # -- wire half -------------------------------------------------------

    def token_life(self) -> TokenLife:
        return TOKEN_LIFE

    def _version(self) -> str:
        return str(self.account.options.get("version") or version_for(self.clock()))

    def _headers(self) -> dict[str, str]:
        version = self._version()
        if not re.fullmatch(r"\d{6}", version):
            raise Rejected(
                f"linkedin ({self.account.name}): option version must be YYYYMM, not {version!r}"
            )
        return {
            "Authorization": f"Bearer {self.account.secret('access_token')}",
            "LinkedIn-Version": version,
            "X-Restli-Protocol-Version": "2.0.0",
        }

    def _call(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = {**self._headers(), **kw.pop("headers", {})}
        response = self.request(method, path, headers=headers, **kw)
        if response.ok:
            return response
        raise self.error_from(
            response, self.who, version=self._version(), upgrade_step=self._upgrade_step()
        )

    def _upgrade_step(self) -> str:
        """What to do when LinkedIn no longer serves the version asked for (426)."""
        current = version_for(self.clock())
        if self.account.options.get("version"):
            return (
                f"remove targets.{self.account.name}.options.version (crosspost then "
                f"follows the calendar, {current} today) or set it to {current}"
            )
        return f"check the machine's clock: crosspost asked for {current}"

    def _userinfo(self) -> dict[str, Any]:
        if self._member is None:
            self._member = self._call("GET", "/v2/userinfo").json()
        return self._member

    def _author(self) -> str:
        author = self.account.options.get("author")
        return str(author) if author else f"urn:li:person:{self._userinfo()['sub']}"

    def create_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote:
        body = dict(post.request)
        if "author" not in body:
            body = {"author": self._author(), **body}
        try:
            response = self._call("POST", "/rest/posts", json=body)
        except Rejected as exc:
            duplicate = _DUPLICATE.search(exc.platform_message or "")
            if exc.status == 422 and duplicate:
                return _remote(duplicate.group(1))  # LinkedIn names the post already made
            raise
        urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
        if not urn:
            raise Transient(f"linkedin ({self.account.name}): the answer named no post id")
        return _remote(urn)

    def find_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote | None:
        author = str(post.request.get("author") or self._author())
        answer = self._call(
            "GET", "/rest/posts", params={"author": author, "q": "author", "count": SCAN_COUNT}
        ).json()
        wanted = visible_text(post.request.get("commentary", ""))
        for element in answer.get("elements") or []:
            if visible_text(element.get("commentary") or "") == wanted:
                return _remote(str(element["id"]))
        return None

    def update(self, remote: Remote, draft: Draft) -> Remote:
        commentary = draft.posts[0].request["commentary"]
        self._call(
            "POST",
            f"/rest/posts/{quote(remote.id, safe='')}",
            headers={"X-RestLi-Method": "PARTIAL_UPDATE"},
            json={"patch": {"$set": {"commentary": commentary}}},
        )
        return _remote(remote.id)

    def delete(self, remote: Remote) -> None:
        self._call("DELETE", f"/rest/posts/{quote(remote.id, safe='')}")

    def verify(self) -> str:
        self._member = None
        member = self._userinfo()
        return f"{member.get('name') or 'member'} ({self._author()})"


# ---------------------------------------------------------------- helpers


def version_for(today: datetime) -> str:
    """The `LinkedIn-Version` for a day: the month two months back (YYYYMM).

    A version is released during its month, so two months back is at least a month old on
    any day, and with about twelve months of service it is far from its sunset.
    """
    months = today.year * 12 + (today.month - 1) - 2
    return f"{months // 12:04d}{months % 12 + 1:02d}"


def to_little(text: str, tags: list[str]) -> str:
    """The composed text as little: the chosen hashtags as templates, everything else escaped.

    A hashtag is a whole word equal to one of `tags` (the composer's own hashtags).
    """
    if not tags:
        return escape_little(text)
    pattern = re.compile(
        r"(?<!\S)("
        + "|".join(re.escape(t) for t in sorted(tags, key=len, reverse=True))
        + r")(?!\S)"
    )
    pieces: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        pieces.append(escape_little(text[last : match.start()]))
        pieces.append(little_hashtag(match.group(1)[1:]) or escape_little(match.group(1)))
        last = match.end()
    pieces.append(escape_little(text[last:]))
    return "".join(pieces)


def visible_text(little: str) -> str:
    """What a reader sees of a little text: `#Tag` for a hashtag template, escapes removed."""
    shown = _LITTLE_HASHTAG.sub(lambda m: "\\#" + m.group(1), little)
    return _ESCAPE.sub(r"\1", shown).strip()


def _remote(urn: str) -> Remote:
    return Remote(id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/")


def _error_text(answer: Answer) -> str:
    data = answer.json()
    if data is None:
        return answer.text[:200]
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    return str(data)[:200]


def _quota_wait(answer: Answer) -> float:
    """Retry-After when sent, else until the daily quotas reset at 00:00 UTC."""
    stated = header_wait(answer)
    if stated is not None:
        return stated
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1.0, (midnight - now).total_seconds())
