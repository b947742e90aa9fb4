"""Medium, through its legacy publishing API: best effort, for accounts that still have a token.

**Medium no longer supports this API.** Its docs carry the banner "The Medium API is no
longer supported" (Medium/medium-api-docs, 2023), and Medium issues no new integration
tokens ("We don't allow any new integrations with our API"). Tokens made years ago may
still work; many now answer 401 `{"errors":[{"message":"Application not found","code":6005}]}`,
and no setting can fix that: the target has to go, and the essay can be brought over by
hand with Medium's own import tool (medium.com/p/import), which also sets the canonical link.

Facts the code depends on (Medium/medium-api-docs README):
- `Authorization: Bearer <integration token>`; tokens do not expire. `GET /v1/me` gives the
  user id that the create path needs (`POST /v1/users/{authorId}/posts`, 201
  `{"data": {"id", "url", ...}}`).
- `title` is used for listings and SEO only, and ignored beyond 100 characters: the
  title a reader sees must be repeated inside `content` (here as its `<h1>`).
- Only the first three `tags` are used; a tag longer than 25 characters is ignored.
- `publishStatus` public|draft|unlisted; `contentFormat` html|markdown; images in `<img>`
  are side-loaded by Medium itself.
- No edit and no delete endpoint, and **no way to read posts back**: the API has no
  list-my-posts call (Medium declined to add one: "There are currently no plans to support
  a read API", medium-api-docs#30, #100). After a lost answer nobody can tell whether the
  post exists, so `find_post` does not guess: by default it raises `NeedsPerson` asking
  the operator to look (at most once); option `if_unsure = "resend"` answers "not found"
  instead and accepts a possible duplicate (at least once).
- Errors are `{"errors": [{"message", "code"}]}`: 401 for a missing (6000), invalid (6003)
  or orphaned (6005 "Application not found") token, 400 for invalid fields, 403 when the
  user may not publish there.

Options: `format` (html|markdown), `publish_status` (public|draft|unlisted),
`notify_followers` (bool), `license`, `if_unsure` ("ask" or "resend").
"""

from __future__ import annotations

from typing import Any, ClassVar

import requests

from connectors.base import Account, Connector, Dedupe, Draft, Kind, Post, Remote, RenderContext
from connectors.errors import (
    HTTP_STATUS,
    Answer,
    AuthExpired,
    ErrorQuirks,
    NeedsPerson,
    Rejected,
    Rule,
)
from connectors.options import MEDIUM_FORMATS, MEDIUM_LICENSES, MEDIUM_STATUSES
from pipeline.document import Essay, Heading, Run
from pipeline.render.composer import shorten
from pipeline.render.html import render_html
from pipeline.render.markdown import render_markdown
from pipeline.render.outline import nested_headings
from pipeline.render.parts import blocks_for

MAX_TITLE = 100
MAX_TAGS = 3
MAX_TAG_LENGTH = 25
FORMATS = MEDIUM_FORMATS
STATUSES = MEDIUM_STATUSES
LICENSES = MEDIUM_LICENSES
NO_NEW_TOKENS = (
    "Medium no longer issues tokens; remove this target or use the Medium import tool by hand "
    "(https://medium.com/p/import)"
)
DEAD_TOKEN_CODES = {6003, 6004, 6005}


class Medium(Connector):
    platform: ClassVar[str] = "medium"
    kind: ClassVar[Kind] = Kind.BLOG
    dedupe: ClassVar[Dedupe] = Dedupe.NONE  # no read API: see the module docstring
    can_edit: ClassVar[bool] = False
    default_base_url: ClassVar[str | None] = "https://api.medium.com"
    legacy: ClassVar[bool] = True  # unsupported by Medium; works only with an old token
    errors = ErrorQuirks(
        words=lambda answer: _platform_error(answer)[0],
        codes=lambda answer: (_platform_error(answer)[1],),
        says=HTTP_STATUS,
        rules=(
            Rule(
                AuthExpired,
                statuses=(401,),
                codes=(6000,),
                next_step="set targets.{name}.credentials.integration_token",
            ),
        ),
        auth_codes=DEAD_TOKEN_CODES,
        auth_step=NO_NEW_TOKENS,
        refusals=(
            Rule(
                Rejected,
                statuses=(403,),
                next_step="check on medium.com that the token's account may publish posts",
            ),
        ),
    )

    def __init__(self, account: Account, session: requests.Session | None = None) -> None:
        super().__init__(account, session)
        self._me: dict[str, Any] | None = None

    # -- pure half ---------------------------------------------------------

    @classmethod
    def render(cls, essay: Essay, ctx: RenderContext) -> Draft:
        options = ctx.options
        fmt = _choice(options.get("format", "html"), FORMATS, "format")
        status = _choice(options.get("publish_status", "public"), STATUSES, "publish_status")
        # The title shows on the page only when it is part of the content.
        body_blocks = nested_headings(blocks_for(essay, "blog"), top=2)  # below the <h1>
        blocks = [Heading(level=1, content=[Run(text=essay.title)]), *body_blocks]
        notes = essay.footnotes
        content = render_html(blocks, notes) if fmt == "html" else render_markdown(blocks, notes)
        body: dict[str, Any] = {
            "title": shorten(essay.title.strip(), lambda t: len(t) <= MAX_TITLE),
            "contentFormat": fmt,
            "content": content,
            "tags": medium_tags(essay.tags),
            "publishStatus": status,
        }
        canonical = ctx.link or essay.canonical_url
        if canonical:
            body["canonicalUrl"] = canonical
        if "notify_followers" in options:
            body["notifyFollowers"] = bool(options["notify_followers"])
        if options.get("license"):
            body["license"] = _choice(options["license"], LICENSES, "license")
        return cls.draft(essay, ctx, request=body)

    # -- wire half ---------------------------------------------------------

    def create_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote:
        author = self._user()["id"]
        answer = self._call(
            "POST", f"/v1/users/{author}/posts", "publishing the post", json=post.request
        )
        data = answer.json()["data"]
        return Remote(
            id=str(data["id"]),
            url=data.get("url"),
            extra={"publishStatus": data.get("publishStatus")},
        )

    def find_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote | None:
        """Medium cannot list a user's posts: ask a person (default) or accept a duplicate."""
        if self.account.options.get("if_unsure") == "resend":
            return None
        title = post.request.get("title", draft.title)
        raise NeedsPerson(
            f"medium: cannot tell whether {title!r} reached Medium: its API cannot read posts back",
            next_step="look for the post on https://medium.com/me/stories; if it is there, "
            "mark the publication published with its URL (`crosspost confirm ID URL`), "
            'otherwise `crosspost retry ID` (option if_unsure = "resend" retries blindly)',
        )

    def verify(self) -> str:
        me = self._user(refresh=True)
        return "@" + str(me.get("username") or me["id"])

    # -- HTTP ----------------------------------------------------------------

    def _user(self, refresh: bool = False) -> dict[str, Any]:
        """The token's user (`GET /v1/me`), asked once per connector."""
        if self._me is None or refresh:
            self._me = self._call("GET", "/v1/me", "checking the token").json()["data"]
        return self._me

    def _call(self, method: str, path: str, doing: str, **kw: Any) -> requests.Response:
        token = self.account.secret("integration_token")
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Accept-Charset": "utf-8",
        }
        response = self.request(method, path, headers=headers, **kw)
        return self.checked(response, self.failed(doing))


# ---------------------------------------------------------------- helpers


def medium_tags(tags: list[str]) -> list[str]:
    """The tags Medium will keep: at most 25 characters each, unique, the first three.

    A longer tag would be ignored by Medium yet still use up one of the three places.
    """
    chosen: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        name = " ".join(tag.split())
        if name and len(name) <= MAX_TAG_LENGTH and name.casefold() not in seen:
            seen.add(name.casefold())
            chosen.append(name)
    return chosen[:MAX_TAGS]


def _choice(value: Any, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise Rejected(
            f"medium: option {name} must be one of {', '.join(allowed)}, not {value!r}",
            next_step=f"fix the target's {name} option, then `crosspost retry`",
        )
    return str(value)


def _platform_error(answer: Answer) -> tuple[str, int | None]:
    """Medium's own words and error code from `{"errors": [{"message", "code"}]}`."""
    data = answer.json()
    if data is None:
        return answer.text.strip()[:200] or f"HTTP {answer.status}", None
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code = first.get("code")
        words = "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))
        return f"{words} (code {code})" if code is not None else words, (
            int(code) if isinstance(code, int) else None
        )
    return str(data)[:200], None
