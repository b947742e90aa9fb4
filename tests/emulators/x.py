"""The X (Twitter) API v2, as far as a cross-poster touches it.

Facts enforced ([U] marks an assumption kept strict):
- Auth, user context only: OAuth 1.0a (HMAC-SHA1; the signature covers method, URL, query
  and `oauth_*` parameters, and a form body, never a JSON body; timestamp within 5 minutes
  [U], nonce used once [U]) or an OAuth 2.0 user token (`Authorization: Bearer`). Missing or
  bad -> 401 `{"title":"Unauthorized","type":"about:blank","status":401,"detail":
  "Unauthorized"}`. An app-only bearer cannot post -> 403 (X's "Application-Only" text).
- `POST /2/tweets` JSON `{"text", "reply": {"in_reply_to_tweet_id"}}` -> 201
  `{"data":{"id","text","edit_history_tweet_ids"}}`. The answered and stored `text` is X's
  form of it: every URL (twitter-text's extractor, bare domains too) replaced by a 23-char
  `https://t.co/…` link, and `& < >` HTML-escaped [U]. The reply target must exist (403
  "You attempted to reply to a Tweet that is deleted or not visible to you.").
- Length: twitter-text v3 weighted length (`parse_tweet`, this emulator's own counter) over
  280 -> 400 with `errors[0].message` "Your Tweet text is too long. …".
- Duplicate: the same text as one of the user's live tweets -> 403 exactly
  `{"detail":"You are not allowed to create a Tweet with duplicate content.",
  "type":"about:blank","title":"Forbidden","status":403}`.
- `GET /2/users/me` -> `{"data":{"id","name","username"}}`; `GET /2/users/:id/tweets`
  newest first, `max_results` 5-100 (default 10; else 400), `tweet.fields=referenced_tweets`
  adds `[{"type":"replied_to","id"}]`; no tweets -> `{"meta":{"result_count":0}}` (no data).
  `DELETE /2/tweets/:id` -> `{"data":{"deleted":true}}` (another user's -> 403).
- Rate limits per user and endpoint, 15-minute windows (`POST /2/tweets` 100, `DELETE` 50,
  `users/me` 75, user timeline 900; configurable): every answer carries `x-rate-limit-limit`,
  `x-rate-limit-remaining`, `x-rate-limit-reset` (unix seconds); over -> 429
  `{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank",
  "status":429}`, no `Retry-After`.
- Pay-per-use (2026): an account given a credit budget (`set_credits`) pays $0.015 a post,
  $0.20 for a post holding a URL; a create it cannot pay for -> 402 `{"title":"Payment
  Required","detail":"Your enrolled account … does not have any credits to fulfill this
  request.","type":"https://api.twitter.com/2/problems/credits","status":402}` [U text].
- OAuth 2.0 user tokens expire (`add_oauth2`, 2 h by default) -> 401 once expired.
  `POST /2/oauth2/token` (form `grant_type=refresh_token`, `refresh_token`, `client_id`)
  answers `{"token_type":"bearer","expires_in":7200,"access_token","scope",
  "refresh_token"}` and rotates: the old refresh token is spent (400 `invalid_request`
  on reuse [U text]); the old access token keeps working until it expires.
"""

from __future__ import annotations

import html
import itertools
import re
import secrets
import string
import time
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849 import utils as oauth_utils
from twitter_text import extract_urls_with_indices, parse_tweet

from tests.emulators.base import Emulator, Request, Response, route

MAX_WEIGHTED = 280
TCO_LENGTH = 23
TIMESTAMP_SKEW = 300.0
UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
DUPLICATE = {
    "detail": "You are not allowed to create a Tweet with duplicate content.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}
TOO_MANY = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}
TOO_LONG = (
    "Your Tweet text is too long. For more information on how Twitter determines text length "
    "see https://github.com/twitter/twitter-text."
)
APP_ONLY = (
    "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported "
    "authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context]."
)
REPLY_GONE = "You attempted to reply to a Tweet that is deleted or not visible to you."
DEFAULT_LIMITS = {"create": 100, "delete": 50, "me": 75, "timeline": 900}
PRICE_POST = 0.015
PRICE_POST_WITH_URL = 0.20
NO_CREDITS = {
    "title": "Payment Required",
    "type": "https://api.twitter.com/2/problems/credits",
    "status": 402,
}
OAUTH2_LIFETIME = 7200.0


@dataclass
class _Signed:
    """What oauthlib's verify functions read from a request."""

    uri: str
    http_method: str
    params: list[tuple[str, str]]
    signature: str


class XEmulator(Emulator):
    name = "x"

    def __init__(self, limits: dict[str, int] | None = None, window: float = 900.0) -> None:
        super().__init__()
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.window = window
        self.clock = time.time
        self.users: dict[str, dict[str, Any]] = {}  # user id -> user
        self.bearer: dict[str, str] = {}  # user token -> user id
        self.app_tokens: set[str] = set()
        self.consumers: dict[str, str] = {}  # consumer key -> secret
        self.oauth_tokens: dict[str, tuple[str, str, str]] = {}  # token -> (secret, consumer, user)
        self.nonces: set[tuple[str, str]] = set()
        self.tweets: dict[str, dict[str, Any]] = {}
        self.handled: dict[tuple[str, str, int], int] = {}  # (user, bucket, window) -> answered
        self._counts: dict[tuple[str, str, int], int] = {}
        self._ids = itertools.count(1_790_000_000_000_000_001)
        self.credits: dict[str, float] = {}  # user id -> dollars left (absent: unlimited)
        self.refused_for_credits = 0
        self.bearer_expires: dict[str, float] = {}  # user token -> unix expiry
        self.refresh_tokens: dict[str, tuple[str, str]] = {}  # token -> (client id, user id)
        self.refreshes = 0

    # -- test helpers ------------------------------------------------------

    def add_user(self, username: str = "writer") -> dict[str, Any]:
        user = {"id": str(next(self._ids)), "name": username.title(), "username": username}
        self.users[user["id"]] = user
        return user

    def add_bearer(self, token: str, user: dict[str, Any]) -> None:
        self.bearer[token] = user["id"]

    def add_oauth1(
        self,
        consumer_key: str,
        consumer_secret: str,
        token: str,
        token_secret: str,
        user: dict[str, Any],
    ) -> None:
        self.consumers[consumer_key] = consumer_secret
        self.oauth_tokens[token] = (token_secret, consumer_key, user["id"])

    def set_credits(self, user: dict[str, Any], dollars: float) -> None:
        with self.lock:
            self.credits[user["id"]] = dollars

    def add_oauth2(
        self,
        user: dict[str, Any],
        client_id: str,
        access_token: str,
        refresh_token: str,
        lifetime: float = OAUTH2_LIFETIME,
    ) -> None:
        """A user token from the authorisation-code flow, with its refresh token."""
        with self.lock:
            self.bearer[access_token] = user["id"]
            self.bearer_expires[access_token] = self.clock() + lifetime
            self.refresh_tokens[refresh_token] = (client_id, user["id"])

    def published(self, username: str | None = None) -> list[dict[str, Any]]:
        """Live tweets in creation order, with X's `text` and the `source_text` we were sent."""
        with self.lock:
            return [
                dict(t)
                for t in self.tweets.values()
                if username is None or self.users[t["author_id"]]["username"] == username
            ]

    # -- plumbing ------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        if req.method == "POST" and req.path == "/2/oauth2/token":
            return self._token(req)
        user_id, problem = self._authenticate(req)
        if user_id is None:
            return problem or Response(401, UNAUTHORIZED)
        bucket = _bucket(req)
        headers: dict[str, str] = {}
        if bucket:
            headers, over = self._throttle(user_id, bucket)
            if over:
                return Response(429, TOO_MANY, headers)
        req.headers["X-Emulator-User"] = user_id
        response = super().handle(req)
        response.headers.update(headers)
        return response

    def _authenticate(self, req: Request) -> tuple[str | None, Response | None]:
        value = req.header("Authorization") or ""
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() == "bearer":
            token = credentials.strip()
            if token in self.app_tokens:
                if req.method != "GET":
                    return None, Response(
                        403,
                        {
                            "title": "Unsupported Authentication",
                            "detail": APP_ONLY,
                            "type": "https://api.twitter.com/2/problems/unsupported-authentication",
                            "status": 403,
                        },
                    )
                return None, None
            expiry = self.bearer_expires.get(token)
            if expiry is not None and self.clock() >= expiry:
                return None, None
            return self.bearer.get(token), None
        if scheme == "OAuth":
            return self._verify_oauth1(req, value), None
        return None, None

    def _verify_oauth1(self, req: Request, header: str) -> str | None:
        try:
            oauth = {
                k: oauth_utils.unescape(v)
                for k, v in oauth_utils.parse_authorization_header(header)
            }
        except ValueError:
            return None
        consumer_secret = self.consumers.get(oauth.get("oauth_consumer_key", ""))
        token = self.oauth_tokens.get(oauth.get("oauth_token", ""))
        if consumer_secret is None or token is None or token[1] != oauth["oauth_consumer_key"]:
            return None
        if oauth.get("oauth_signature_method") != "HMAC-SHA1":
            return None
        try:
            stamp = float(oauth.get("oauth_timestamp", ""))
        except ValueError:
            return None
        nonce = (oauth["oauth_consumer_key"], oauth.get("oauth_nonce", ""))
        if abs(self.clock() - stamp) > TIMESTAMP_SKEW or not nonce[1]:
            return None
        content_type = (req.header("Content-Type") or "").lower()
        body = req.body.decode("utf-8") if "x-www-form-urlencoded" in content_type else None
        query = urlencode([(k, v) for k, vs in req.query.items() for v in vs], quote_via=quote)
        params = oauth_signature.collect_parameters(
            uri_query=query,
            body=body,
            headers={"Authorization": header},
            exclude_oauth_signature=True,
        )
        host = req.header("Host") or ""
        signed = _Signed(
            uri=f"http://{host}{req.path}",
            http_method=req.method,
            params=params,
            signature=oauth.get("oauth_signature", ""),
        )
        if not oauth_signature.verify_hmac_sha1(signed, consumer_secret, token[0]):
            return None
        with self.lock:
            if nonce in self.nonces:
                return None
            self.nonces.add(nonce)
        return token[2]

    def _token(self, req: Request) -> Response:
        form = {k: v[0] for k, v in req.form().items() if v}
        if form.get("grant_type") != "refresh_token":
            return Response(400, {"error": "unsupported_grant_type"})
        with self.lock:
            owner = self.refresh_tokens.get(form.get("refresh_token", ""))
            if owner is None or owner[0] != form.get("client_id"):
                return Response(
                    400,
                    {
                        "error": "invalid_request",
                        "error_description": "Value passed for the token was invalid.",
                    },
                )
            del self.refresh_tokens[form["refresh_token"]]
            access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
            self.bearer[access] = owner[1]
            self.bearer_expires[access] = self.clock() + OAUTH2_LIFETIME
            self.refresh_tokens[refresh] = owner
            self.refreshes += 1
        return Response(
            200,
            {
                "token_type": "bearer",
                "expires_in": int(OAUTH2_LIFETIME),
                "access_token": access,
                "scope": "tweet.read tweet.write users.read offline.access",
                "refresh_token": refresh,
            },
        )

    def _throttle(self, user_id: str, bucket: str) -> tuple[dict[str, str], bool]:
        """X's 15-minute windows per user and endpoint, with the x-rate-limit-* headers."""
        limit = self.limits[bucket]
        now = self.clock()
        window = int(now // self.window)
        key = (user_id, bucket, window)
        with self.lock:
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
            if count <= limit:
                self.handled[key] = self.handled.get(key, 0) + 1
        headers = {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(max(0, limit - count)),
            "x-rate-limit-reset": str(int((window + 1) * self.window)),
        }
        return headers, count > limit

    def _user(self, req: Request) -> dict[str, Any]:
        return self.users[req.headers["X-Emulator-User"]]

    # -- users ---------------------------------------------------------------

    @route("GET", r"/2/users/me")
    def me(self, req: Request) -> Response:
        return Response(200, {"data": dict(self._user(req))})

    @route("GET", r"/2/users/(?P<user_id>\d+)/tweets")
    def timeline(self, req: Request, user_id: str) -> Response:
        if user_id not in self.users:
            return Response(
                404,
                {
                    "title": "Not Found Error",
                    "status": 404,
                    "detail": f"Could not find user with id: [{user_id}].",
                },
            )
        raw = req.arg("max_results") or "10"
        if not raw.isdigit() or not 5 <= int(raw) <= 100:
            return _invalid(
                f"The `max_results` query parameter value [{raw}] is not between 5 and 100"
            )
        fields = set((req.arg("tweet.fields") or "").split(","))
        with self.lock:
            found = [t for t in reversed(self.tweets.values()) if t["author_id"] == user_id]
        found = found[: int(raw)]
        if not found:
            return Response(200, {"meta": {"result_count": 0}})
        return Response(
            200,
            {
                "data": [_tweet_json(t, fields) for t in found],
                "meta": {
                    "result_count": len(found),
                    "newest_id": found[0]["id"],
                    "oldest_id": found[-1]["id"],
                },
            },
        )

    # -- tweets ----------------------------------------------------------------

    @route("POST", r"/2/tweets")
    def create(self, req: Request) -> Response:
        user = self._user(req)
        try:
            body = req.json()
        except ValueError:
            return _invalid("Request body is not valid JSON")
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return _invalid("text: a Tweet needs text or media")
        text = unicodedata.normalize("NFC", body["text"])
        if not text.strip():
            return _invalid("text: a Tweet needs text or media")
        if parse_tweet(text).weightedLength > MAX_WEIGHTED:
            return Response(
                400,
                {
                    "errors": [{"message": TOO_LONG}],
                    "title": "Invalid Request",
                    "detail": "One or more parameters to your request was invalid.",
                    "type": "https://api.twitter.com/2/problems/invalid-request",
                },
            )
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        with self.lock:
            if reply_to is not None and str(reply_to) not in self.tweets:
                return Response(
                    403,
                    {
                        "detail": REPLY_GONE,
                        "type": "about:blank",
                        "title": "Forbidden",
                        "status": 403,
                    },
                )
            if any(
                t["author_id"] == user["id"] and t["source_text"] == text
                for t in self.tweets.values()
            ):
                return Response(403, dict(DUPLICATE))
            price = PRICE_POST_WITH_URL if extract_urls_with_indices(text) else PRICE_POST
            left = self.credits.get(user["id"])
            if left is not None:
                if left + 1e-9 < price:
                    self.refused_for_credits += 1
                    detail = (
                        f"Your enrolled account [{user['id']}] does not have any credits to "
                        "fulfill this request."
                    )
                    return Response(402, {**NO_CREDITS, "detail": detail})
                self.credits[user["id"]] = left - price
            tweet_id = str(next(self._ids))
            parent = self.tweets.get(str(reply_to)) if reply_to else None
            tweet = {
                "id": tweet_id,
                "text": as_stored(text),
                "source_text": text,
                "author_id": user["id"],
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(self.clock())),
                "in_reply_to": str(reply_to) if reply_to else None,
                "conversation_id": parent["conversation_id"] if parent else tweet_id,
            }
            self.tweets[tweet_id] = tweet
        return Response(
            201,
            {"data": {"id": tweet_id, "text": tweet["text"], "edit_history_tweet_ids": [tweet_id]}},
        )

    @route("DELETE", r"/2/tweets/(?P<tweet_id>\d+)")
    def delete(self, req: Request, tweet_id: str) -> Response:
        with self.lock:
            tweet = self.tweets.get(tweet_id)
            if tweet is None:
                return Response(200, {"data": {"deleted": False}})
            if tweet["author_id"] != self._user(req)["id"]:
                return Response(
                    403,
                    {
                        "title": "Forbidden",
                        "type": "about:blank",
                        "status": 403,
                        "detail": "You are not allowed to delete this Tweet.",
                    },
                )
            del self.tweets[tweet_id]
        return Response(200, {"data": {"deleted": True}})


def as_stored(text: str) -> str:
    """X's `text`: each URL wrapped as a 23-character t.co link, `& < >` escaped [U]."""
    pieces: list[str] = []
    last = 0
    for entity in extract_urls_with_indices(text):
        start, end = entity["indices"]
        pieces.append(html.escape(text[last:start], quote=False))
        pieces.append(_tco())
        last = end
    pieces.append(html.escape(text[last:], quote=False))
    return "".join(pieces)


def _tco() -> str:
    alphabet = string.ascii_letters + string.digits
    link = "https://t.co/" + "".join(secrets.choice(alphabet) for _ in range(10))
    assert len(link) == TCO_LENGTH
    return link


def _tweet_json(tweet: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": tweet["id"],
        "text": tweet["text"],
        "edit_history_tweet_ids": [tweet["id"]],
    }
    if "referenced_tweets" in fields and tweet["in_reply_to"]:
        data["referenced_tweets"] = [{"type": "replied_to", "id": tweet["in_reply_to"]}]
    if "created_at" in fields:
        data["created_at"] = tweet["created_at"]
    if "conversation_id" in fields:
        data["conversation_id"] = tweet["conversation_id"]
    if "author_id" in fields:
        data["author_id"] = tweet["author_id"]
    return data


def _invalid(message: str) -> Response:
    return Response(
        400,
        {
            "errors": [{"message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )


def _bucket(req: Request) -> str | None:
    if req.method == "POST" and req.path == "/2/tweets":
        return "create"
    if req.method == "DELETE" and re.fullmatch(r"/2/tweets/\d+", req.path):
        return "delete"
    if req.path == "/2/users/me":
        return "me"
    if re.fullmatch(r"/2/users/\d+/tweets", req.path):
        return "timeline"
    return None
