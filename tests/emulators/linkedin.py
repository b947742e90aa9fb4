"""LinkedIn's Posts API (versioned `/rest/`), as far as a cross-poster touches it.

Facts enforced ([U] marks an assumption kept strict):
- Auth: `Authorization: Bearer <token>` on every call; unknown -> 401 `{"status":401,
  "serviceErrorCode":65600,"code":"INVALID_ACCESS_TOKEN","message":"Invalid access token"}`.
  `GET /v2/userinfo` (OpenID) -> `{"sub","name",...}`; the author URN is `urn:li:person:<sub>`.
- Every `/rest/` call needs `LinkedIn-Version: YYYYMM` (missing -> 400 `VERSION_MISSING` [U
  text]; not one of the active months, about the last twelve -> 426 `{"status":426,"code":
  "NONEXISTENT_VERSION","message":"Requested version 202401 is not active"}`) and
  `X-Restli-Protocol-Version: 2.0.0` (missing -> 400 [U text]). Errors are
  `{"status","serviceErrorCode","code","message"}`.
- `POST /rest/posts` `{"author","commentary","visibility":"PUBLIC"|"CONNECTIONS",
  "distribution":{"feedDistribution":"MAIN_FEED",...},"content":{"article":{"source",
  "title","description"}}?,"lifecycleState":"PUBLISHED","isReshareDisabledByAuthor"}` ->
  201, empty body, id in header `x-restli-id` (`urn:li:share:<n>`). The author must be the
  token's member (403 [U text]).
- `commentary` is "little" text: the reserved characters `| { } @ [ ] ( ) < > # \\ * _ ~`
  must be backslash-escaped; `{hashtag|\\#|Tag}` is a hashtag and `@[Name](urn:li:…)` a
  mention. An unescaped reserved character outside those templates cuts the post there: the
  stored commentary is the text before it (the documented truncation, kept strict).
  Visible text (escapes removed, templates shown as `#Tag`/`Name`) over 3,000 characters
  -> 422 [U]. The same visible text again from the same author -> 422 "Content is a
  duplicate of urn:li:share:<n>" [U].
- `GET /rest/posts?author=<urn>&q=author&count=N` (newest first, count <= 100) ->
  `{"elements":[post...],"paging":{...}}`; `GET /rest/posts/{urn}`; `POST /rest/posts/{urn}`
  with `X-RestLi-Method: PARTIAL_UPDATE` and `{"patch":{"$set":{"commentary":…}}}` -> 204;
  `DELETE /rest/posts/{urn}` -> 204. URNs in paths are URL-encoded.
- Rate limits: per-member daily quotas reset at 00:00 UTC, numbers unpublished; over -> 429
  `{"status":429,"serviceErrorCode":101,"code":"TOO_MANY_REQUESTS","message":"Resource level
  throttle MEMBER DAY limit for calls to this resource is reached."}` [U text], no
  `Retry-After` [U]. The quota here counts creates per member per `quota_window` seconds.
"""

from __future__ import annotations

import itertools
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from tests.emulators.base import Emulator, Request, Response, route

RESERVED = frozenset("|{}@[]()<>#\\*_~")
MAX_VISIBLE = 3000
_HASHTAG = re.compile(r"\{hashtag\|\\#\|((?:\\.|[^{}|\\])+)\}")
_MENTION = re.compile(r"@\[((?:\\.|[^\[\]\\])*)\]\((urn:li:(?:person|organization):[^()\s]+)\)")
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


def error(status: int, code: str, message: str, service: int | None = None) -> Response:
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if service is not None:
        body["serviceErrorCode"] = service
    return Response(status, body)


def read_little(text: str) -> tuple[str, str]:
    """(stored commentary, visible text): cut at the first unescaped reserved character."""
    visible: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text):
                break
            visible.append(text[i + 1])
            i += 2
            continue
        hashtag = _HASHTAG.match(text, i)
        if hashtag:
            visible.append("#" + _ESCAPED.sub(r"\1", hashtag.group(1)))
            i = hashtag.end()
            continue
        mention = _MENTION.match(text, i)
        if mention:
            visible.append(_ESCAPED.sub(r"\1", mention.group(1)))
            i = mention.end()
            continue
        if ch in RESERVED:
            break
        visible.append(ch)
        i += 1
    return text[:i], "".join(visible)


def active_versions(now: float) -> set[str]:
    """The twelve months up to now: LinkedIn keeps a version for about a year."""
    moment = datetime.fromtimestamp(now, UTC)
    months = moment.year * 12 + moment.month - 1
    return {f"{m // 12:04d}{m % 12 + 1:02d}" for m in range(months - 11, months + 1)}


class LinkedInEmulator(Emulator):
    name = "linkedin"

    def __init__(self, daily_quota: int = 150, quota_window: float = 86400.0) -> None:
        super().__init__()
        self.daily_quota = daily_quota
        self.quota_window = quota_window
        self.clock = time.time
        self.members: dict[str, dict[str, Any]] = {}  # token -> member
        self.token_expiry: dict[str, float] = {}  # token -> unix expiry
        self.posts: dict[str, dict[str, Any]] = {}  # urn -> post
        self.handled_creates: dict[tuple[str, int], int] = {}  # (member, window) -> accepted
        self._create_counts: dict[tuple[str, int], int] = {}
        self._ids = itertools.count(7_260_000_000_000_000_001)

    # -- test helpers ------------------------------------------------------

    def add_member(
        self,
        token: str,
        name: str = "Writer",
        sub: str = "abc123XYZ",
        lifetime: float | None = None,
    ) -> str:
        """Register a member; return their person URN. `lifetime`: seconds the token has left
        (member tokens last 60 days; expired -> 401 EXPIRED_ACCESS_TOKEN)."""
        if lifetime is not None:
            self.token_expiry[token] = self.clock() + lifetime
        self.members[token] = {
            "sub": sub,
            "name": name,
            "email_verified": True,
            "locale": {"country": "US", "language": "en"},
        }
        return f"urn:li:person:{sub}"

    def published(self) -> list[dict[str, Any]]:
        """Live posts in creation order, each with `commentary` and the visible `text`."""
        with self.lock:
            return [dict(p) for p in self.posts.values()]

    # -- plumbing ------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        value = req.header("Authorization") or ""
        scheme, _, token = value.partition(" ")
        member = self.members.get(token.strip()) if scheme.lower() == "bearer" else None
        if member is None:
            return error(401, "INVALID_ACCESS_TOKEN", "Invalid access token", 65600)
        if self.clock() >= self.token_expiry.get(token.strip(), float("inf")):
            return error(
                401, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired", 65601
            )
        if req.path.startswith("/rest/"):
            version = req.header("LinkedIn-Version")
            if not version:
                return error(
                    400,
                    "VERSION_MISSING",
                    "A version must be present. Please specify a version by adding the "
                    "LinkedIn-Version header.",
                )
            if version not in active_versions(self.clock()):
                return error(
                    426, "NONEXISTENT_VERSION", f"Requested version {version} is not active"
                )
            if req.header("X-Restli-Protocol-Version") != "2.0.0":
                return error(
                    400,
                    "INVALID_PROTOCOL_VERSION",
                    "This endpoint requires header X-Restli-Protocol-Version: 2.0.0",
                )
        req.headers["X-Emulator-Member"] = member["sub"]
        return super().handle(req)

    def _author(self, req: Request) -> str:
        return f"urn:li:person:{req.headers['X-Emulator-Member']}"

    def _over_quota(self, member: str) -> bool:
        window = int(self.clock() // self.quota_window)
        with self.lock:
            count = self._create_counts.get((member, window), 0) + 1
            self._create_counts[(member, window)] = count
            if count <= self.daily_quota:
                self.handled_creates[(member, window)] = (
                    self.handled_creates.get((member, window), 0) + 1
                )
        return count > self.daily_quota

    # -- member ----------------------------------------------------------------

    @route("GET", r"/v2/userinfo")
    def userinfo(self, req: Request) -> Response:
        sub = req.headers["X-Emulator-Member"]
        member = next(m for m in self.members.values() if m["sub"] == sub)
        return Response(200, dict(member))

    # -- posts -------------------------------------------------------------------

    @route("POST", r"/rest/posts")
    def create(self, req: Request) -> Response:
        author = self._author(req)
        if self._over_quota(author):
            return error(
                429,
                "TOO_MANY_REQUESTS",
                "Resource level throttle MEMBER DAY limit for calls to this resource is reached.",
                101,
            )
        try:
            body = req.json()
        except ValueError:
            return error(400, "BAD_REQUEST", "Invalid JSON body")
        problem = self._validate(body, author)
        if problem:
            return problem
        commentary, visible = read_little(body.get("commentary", ""))
        if len(visible) > MAX_VISIBLE:
            return error(
                422,
                "UNPROCESSABLE_ENTITY",
                f"/commentary :: length {len(visible)} exceeds maximum {MAX_VISIBLE}",
            )
        with self.lock:
            for urn, post in self.posts.items():
                if post["author"] == author and post["text"] == visible:
                    return error(422, "UNPROCESSABLE_ENTITY", f"Content is a duplicate of {urn}")
            urn = f"urn:li:share:{next(self._ids)}"
            now = int(self.clock() * 1000)
            self.posts[urn] = {
                "id": urn,
                "author": author,
                "commentary": commentary,
                "text": visible,
                "visibility": body["visibility"],
                "distribution": body["distribution"],
                "content": body.get("content"),
                "lifecycleState": body["lifecycleState"],
                "isReshareDisabledByAuthor": bool(body.get("isReshareDisabledByAuthor")),
                "createdAt": now,
                "lastModifiedAt": now,
                "publishedAt": now,
            }
        return Response(201, None, {"x-restli-id": urn, "x-linkedin-id": urn})

    def _validate(self, body: Any, author: str) -> Response | None:
        if not isinstance(body, dict):
            return error(400, "BAD_REQUEST", "Invalid JSON body")
        for field in ("author", "visibility", "distribution", "lifecycleState"):
            if field not in body:
                return error(422, "FIELD_VALUE_MISSING", f"/{field} :: field is required")
        if body["author"] != author:
            return error(
                403, "ACCESS_DENIED", f"Not enough permissions to post as {body['author']}", 100
            )
        if body["visibility"] not in ("PUBLIC", "CONNECTIONS", "LOGGED_IN"):
            return error(422, "UNPROCESSABLE_ENTITY", "/visibility :: invalid enum value")
        if body["lifecycleState"] not in ("PUBLISHED", "DRAFT"):
            return error(422, "UNPROCESSABLE_ENTITY", "/lifecycleState :: invalid enum value")
        if body["distribution"].get("feedDistribution") not in ("MAIN_FEED", "NONE"):
            return error(
                422, "UNPROCESSABLE_ENTITY", "/distribution/feedDistribution :: invalid enum value"
            )
        article = (body.get("content") or {}).get("article")
        if article is not None and not re.match(r"https?://", str(article.get("source", ""))):
            return error(422, "UNPROCESSABLE_ENTITY", "/content/article/source :: invalid URL")
        if article is not None and not article.get("title"):
            return error(422, "FIELD_VALUE_MISSING", "/content/article/title :: field is required")
        return None

    @route("GET", r"/rest/posts")
    def by_author(self, req: Request) -> Response:
        if req.arg("q") != "author" or not req.arg("author"):
            return error(400, "ILLEGAL_ARGUMENT", "q=author and author are required")
        count = int(req.arg("count") or 10)
        if not 0 < count <= 100:
            return error(400, "ILLEGAL_ARGUMENT", "count must be between 1 and 100")
        author = req.arg("author")
        with self.lock:
            found = [_post_json(p) for p in reversed(self.posts.values()) if p["author"] == author]
        return Response(
            200, {"elements": found[:count], "paging": {"start": 0, "count": count, "links": []}}
        )

    @route("GET", r"/rest/posts/(?P<urn>[^/]+)")
    def get(self, req: Request, urn: str) -> Response:
        post = self.posts.get(unquote(urn))
        if post is None:
            return error(404, "NOT_FOUND", f"Post {unquote(urn)} not found")
        return Response(200, _post_json(post))

    @route("POST", r"/rest/posts/(?P<urn>[^/]+)")
    def partial_update(self, req: Request, urn: str) -> Response:
        if (req.header("X-RestLi-Method") or "").upper() != "PARTIAL_UPDATE":
            return error(400, "ILLEGAL_ARGUMENT", "X-RestLi-Method: PARTIAL_UPDATE is required")
        with self.lock:
            post = self.posts.get(unquote(urn))
            if post is None:
                return error(404, "NOT_FOUND", f"Post {unquote(urn)} not found")
            if post["author"] != self._author(req):
                return error(403, "ACCESS_DENIED", "Not enough permissions to update this post")
            changes = ((req.json() or {}).get("patch") or {}).get("$set") or {}
            unknown = set(changes) - {
                "commentary",
                "contentCallToActionLabel",
                "contentLandingPage",
                "lifecycleState",
                "adContext",
            }
            if unknown:
                return error(
                    422, "UNPROCESSABLE_ENTITY", f"cannot update {', '.join(sorted(unknown))}"
                )
            if "commentary" in changes:
                commentary, visible = read_little(changes["commentary"])
                if len(visible) > MAX_VISIBLE:
                    return error(
                        422,
                        "UNPROCESSABLE_ENTITY",
                        f"/commentary :: length {len(visible)} exceeds maximum {MAX_VISIBLE}",
                    )
                post["commentary"], post["text"] = commentary, visible
            if "lifecycleState" in changes:
                post["lifecycleState"] = changes["lifecycleState"]
            post["lastModifiedAt"] = int(self.clock() * 1000)
        return Response(204)

    @route("DELETE", r"/rest/posts/(?P<urn>[^/]+)")
    def delete(self, req: Request, urn: str) -> Response:
        with self.lock:
            post = self.posts.get(unquote(urn))
            if post is None:
                return error(404, "NOT_FOUND", f"Post {unquote(urn)} not found")
            if post["author"] != self._author(req):
                return error(403, "ACCESS_DENIED", "Not enough permissions to delete this post")
            del self.posts[unquote(urn)]
        return Response(204)


def _post_json(post: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in post.items() if k != "text" and v is not None}
