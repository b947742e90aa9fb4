"""X (API v2): an announcement, or the essay as a thread, posted as tweets.

Why it looks like this:
- Auth is user context, chosen by the credentials present: OAuth 1.0a (`consumer_key`,
  `consumer_secret`, `access_token`, `access_token_secret`, signed by requests-oauthlib; the
  JSON body is not part of the signature) or an OAuth 2.0 user token (`bearer_token`).
- Length is twitter-text's weighted 280 (`count_x`): Latin 1, CJK and most scripts 2, any URL
  23, an emoji 2. The composer keeps every post within it, so X never refuses one for length.
- X has no idempotency key. A retry in doubt first looks the tweet up (`find_post`) in the
  user's newest tweets, in the same place of the thread (`referenced_tweets` replied_to).
  X stores `text` with every URL replaced by a 23-character t.co link and `& < >` escaped,
  so texts are compared with URLs reduced to a placeholder, HTML entities undone and NFC.
- X answers a repeat of the user's recent text with 403 "duplicate content". That is the
  platform telling us the post already exists, so `create_post` looks it up and returns it;
  only when it cannot be found (an identical older tweet elsewhere) is it `Rejected`.
- Rate limits come as `x-rate-limit-reset` (unix seconds); there is no `Retry-After`.
- X is pay-per-use (2026): about $0.015 a post, about $0.20 when the post holds a URL
  (`cost_estimate`, rates overridable by options `cost_per_post` / `cost_per_post_with_link`).
  Option `link = "reply"` keeps the URL out of the announcement and posts it as a reply
  under it. When the account's credits run out, create answers 402: that is `AccountHeld`,
  so the engine holds the target's publications until `crosspost resume`.
- OAuth 2.0 user tokens last 2 hours; with `refresh_token` (scope `offline.access`) and
  `client_id` (plus `client_secret` for a confidential client) crosspost renews the token
  at `POST /2/oauth2/token` before it dies; X rotates the refresh token each time.
- The post URL needs the handle: option `username`, or the one `verify()` learnt, else
  X's handle-free form `https://x.com/i/status/<id>`. Tweets cannot be edited (API).
"""

from __future__ import annotations

import html
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

import requests
from requests_oauthlib import OAuth1

from connectors.base import (
    Dedupe,
    Draft,
    Post,
    Refreshed,
    Remote,
    RenderContext,
    TokenLife,
)
from connectors.errors import (
    AccountHeld,
    Answer,
    AuthExpired,
    ErrorQuirks,
    Rejected,
    Rule,
    Says,
    Transient,
    header_wait,
)
from connectors.social import SocialConnector, social_texts
from pipeline.document import Essay
from pipeline.render.lengths import find_urls

OAUTH1_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
DUPLICATE_TEXT = "duplicate content"
SCAN_LIMIT = 100  # the most GET /2/users/:id/tweets returns in one page
_URL_MARK = "\x00url\x00"
COST_PER_POST = 0.015  # US dollars, pay-per-use price of a post (2026)
COST_PER_POST_WITH_LINK = 0.20  # a post that contains a URL
LINK_REPLY_TEMPLATE = "{url}"
OAUTH2_LIFE = timedelta(hours=2)
OAUTH2_SOURCE = (
    "X documents OAuth 2.0 user access tokens as valid for 2 hours; the offline.access "
    "scope adds a refresh token"
)


class X(SocialConnector):
    rate_limit = (100, 900.0)  # POST /2/tweets: 100 per 15 minutes per user
    charges_per_post = True
    platform = "x"
    dedupe = Dedupe.LOOKUP
    can_edit = False
    default_base_url = "https://api.x.com"
    errors = ErrorQuirks(
        words=lambda answer: _error_text(answer),
        wait=lambda answer: _reset_wait(answer),
        transient=(),
        rules=(
            Rule(
                AccountHeld,
                statuses=(402,),
                says="{what}: X API credits exhausted",
                next_step="add credits to the X developer account (Billing in the developer "
                "console), then `crosspost resume {name}`",
            ),
            Rule(
                AuthExpired,
                statuses=(403,),
                when=lambda answer: "Application-Only" in _error_text(answer),
                says="{what}: an app-only token cannot post; a user token is needed",
            ),
        ),
    )

    _me: dict[str, str] | None = None  # the account on the platform, asked once

    # -- pure half -------------------------------------------------------

    @classmethod
    def render(cls, essay: Essay, ctx: RenderContext) -> Draft:
        rule = cls.length_rule(ctx)
        link = ctx.link or essay.canonical_url
        if ctx.options.get("link") == "reply" and link:
            # the URL goes in a reply: the announcement itself is the cheap, link-free post
            bare = essay.model_copy(update={"canonical_url": None})
            texts = social_texts("x", bare, replace(ctx, link=None), rule)
            template = str(ctx.options.get("link_template") or LINK_REPLY_TEMPLATE)
            texts.append(template.replace("{url}", link).replace("{title}", essay.title))
        else:
            texts = social_texts("x", essay, ctx, rule)
        posts = [
            Post(request={"text": text}, text=text, length=rule.count(text), limit=rule.limit)
            for text in texts
        ]
        return cls.draft(essay, ctx, posts)

    @classmethod
    def cost_estimate(cls, draft: Draft, options: Mapping[str, Any]) -> float | None:
        """Pay-per-use: each post costs the plain rate, or the link rate when it holds a URL."""
        plain = float(options.get("cost_per_post", COST_PER_POST))
        linked = float(options.get("cost_per_post_with_link", COST_PER_POST_WITH_LINK))
        return round(
            sum(linked if find_urls(post.text or "") else plain for post in draft.posts), 4
        )

    # -- auth and errors -------------------------------------------------------

    def _auth(self) -> dict[str, Any]:
        """OAuth 1.0a when its four credentials are present, else the OAuth 2.0 user token."""
        present = self.account.credentials
        if all(key in present for key in OAUTH1_KEYS):
            return {
                "auth": OAuth1(
                    self.account.secret("consumer_key"),
                    client_secret=self.account.secret("consumer_secret"),
                    resource_owner_key=self.account.secret("access_token"),
                    resource_owner_secret=self.account.secret("access_token_secret"),
                )
            }
        if "bearer_token" in present:
            return {"headers": {"Authorization": f"Bearer {self.account.secret('bearer_token')}"}}
        raise AuthExpired(
            f"x ({self.account.name}): no usable credentials",
            next_step=(
                f"set targets.{self.account.name}.credentials to consumer_key, consumer_secret, "
                "access_token and access_token_secret (OAuth 1.0a) or bearer_token (OAuth 2.0)"
            ),
        )

    def _call(self, method: str, path: str, **kw: Any) -> requests.Response:
        response = self.request(method, path, **self._auth(), **kw)
        return self.checked(response, self.who)

    # -- wire half -------------------------------------------------------

    def _user(self) -> dict[str, str]:
        if self._me is None:
            self._me = self._call("GET", "/2/users/me").json()["data"]
        return self._me

    def _url(self, tweet_id: str) -> str:
        username = self.account.options.get("username") or (self._me or {}).get("username")
        if username:
            return f"https://x.com/{str(username).lstrip('@')}/status/{tweet_id}"
        return f"https://x.com/i/status/{tweet_id}"

    def create_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote:
        body = dict(post.request)
        if chain:
            body["reply"] = {"in_reply_to_tweet_id": chain[-1].id}
        try:
            data = self._call("POST", "/2/tweets", json=body).json()["data"]
        except Rejected as exc:
            if exc.status != 403 or DUPLICATE_TEXT not in (exc.platform_message or ""):
                raise
            # X says this text is already there: it is the post an earlier attempt made.
            existing = self.find_post(post, key, chain, draft)
            if existing is None:
                raise Rejected(
                    f"x ({self.account.name}): X calls this a duplicate of an older tweet that "
                    "is not in this thread",
                    next_step="delete the older tweet or change the essay, then `crosspost retry`",
                    platform_message=exc.platform_message,
                    status=403,
                ) from exc
            return existing
        return Remote(id=str(data["id"]), url=self._url(str(data["id"])))

    def find_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote | None:
        me = self._user()
        answer = self._call(
            "GET",
            f"/2/users/{me['id']}/tweets",
            params={"max_results": SCAN_LIMIT, "tweet.fields": "referenced_tweets"},
        ).json()
        reply_to = chain[-1].id if chain else None
        wanted = comparable(post.request.get("text", ""))
        for tweet in answer.get("data") or []:
            replied = [
                str(ref["id"])
                for ref in tweet.get("referenced_tweets") or []
                if ref.get("type") == "replied_to"
            ]
            if replied != ([reply_to] if reply_to else []):
                continue
            if comparable(tweet.get("text", "")) == wanted:
                return Remote(id=str(tweet["id"]), url=self._url(str(tweet["id"])))
        return None

    def delete(self, remote: Remote) -> None:
        self._call("DELETE", f"/2/tweets/{remote.id}")

    def verify(self) -> str:
        self._me = None
        return "@" + self._user()["username"]

    # -- credentials -----------------------------------------------------------

    def token_life(self) -> TokenLife | None:
        present = self.account.credentials
        if all(key in present for key in OAUTH1_KEYS) or "bearer_token" not in present:
            return None  # OAuth 1.0a tokens do not expire by date
        refreshable = "refresh_token" in present and "client_id" in present
        return TokenLife("bearer_token", OAUTH2_LIFE, OAUTH2_SOURCE, refreshable=refreshable)

    def refresh_credentials(self) -> Refreshed:
        """Trade the refresh token for a new access token (and a new refresh token)."""
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.account.secret("refresh_token"),
            "client_id": self.account.secret("client_id"),
        }
        auth = None
        if "client_secret" in self.account.credentials:
            auth = (self.account.secret("client_id"), self.account.secret("client_secret"))
        response = self.request("POST", "/2/oauth2/token", data=form, auth=auth)
        self.checked(response, self.who, quirks=TOKEN_ERRORS)
        answer = response.json()
        if not answer.get("access_token"):
            raise Transient(f"x ({self.account.name}): the token answer named no token")
        values = {"bearer_token": str(answer["access_token"])}
        if answer.get("refresh_token"):
            values["refresh_token"] = str(answer["refresh_token"])
        expires = answer.get("expires_in")
        return Refreshed(values, float(expires) if isinstance(expires, int | float) else None)


# ---------------------------------------------------------------- helpers


def comparable(text: str) -> str:
    """Text as X keeps it, made comparable: URLs (t.co or ours) as one mark, entities undone."""
    text = unicodedata.normalize("NFC", html.unescape(text))
    pieces: list[str] = []
    last = 0
    for start, end in find_urls(text):
        pieces.append(text[last:start] + _URL_MARK)
        last = end
    pieces.append(text[last:])
    return "".join(pieces).strip()


def _error_text(answer: Answer) -> str:
    """X's words: `errors[].message` (v1.1-style and validation) or the problem `detail`."""
    data = answer.json()
    if data is None:
        return answer.text[:200]
    if not isinstance(data, dict):
        return str(data)[:200]
    messages = [
        str(e.get("message") or e.get("detail"))
        for e in data.get("errors") or []
        if isinstance(e, dict) and (e.get("message") or e.get("detail"))
    ]
    if messages:
        return "; ".join(messages)
    return str(data.get("detail") or data.get("title") or data)[:300]


def _reset_wait(answer: Answer) -> float | None:
    """Seconds until `x-rate-limit-reset` (unix seconds), at least one; else Retry-After."""
    reset = answer.headers.get("x-rate-limit-reset")
    if reset:
        try:
            return max(1.0, float(reset) - time.time())
        except ValueError:
            pass
    return header_wait(answer)


# trading a refresh token: a 400 too means the token is dead, and a person must sign in
TOKEN_ERRORS = replace(
    X.errors,
    auth=(400, 401),
    says=Says(auth="{what}: the refresh token was refused"),
    auth_step="authorise crosspost on X again (OAuth 2.0 with offline.access) and "
    "put the new bearer_token and refresh_token in .env",
)
