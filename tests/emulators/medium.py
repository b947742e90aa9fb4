"""Medium's legacy publishing API (unsupported by Medium since 2023), as documented.

Facts enforced (Medium/medium-api-docs README; issues medium-sdk-nodejs#33, #35,
medium-api-docs#132; [U] marks an assumption kept strict):
- Auth: `Authorization: Bearer <integration token>`. Missing -> 401
  `{"errors":[{"message":"An access token is required.","code":6000}]}`; unknown -> 401
  "Token was invalid." code 6003 [U status]; a token whose application Medium removed -> 401
  "Application not found" code 6005 (what many old tokens answer today) [U status].
- `GET /v1/me` -> `{"data":{"id","username","name","url","imageUrl"}}`;
  `GET /v1/users/{id}/publications` -> `{"data":[...]}` (403 for another user). **There is
  no endpoint that lists or reads posts**, no edit and no delete: this emulator offers none.
- `POST /v1/users/{authorId}/posts`, JSON: `authorId` must be the token's user, else 403
  [U code 6027]. Fields: title, contentFormat, content (required), tags, canonicalUrl,
  publishStatus, license, notifyFollowers; any other field -> 400 "Unexpected field (x)
  specified" code 6007 [U on this endpoint]. Missing or invalid required field, unknown
  contentFormat, publishStatus or license -> 400 with code 6026 [U code and text].
- What is stored: a title over 100 characters is ignored and one is synthesized from the
  content's first text; only the first three tags are used and tags over 25 characters are
  ignored (applied in that order, the strict reading). Success 201 `{"data":{"id","title",
  "authorId","tags","url","canonicalUrl"(only when given),"publishStatus",
  "publishedAt"(ms, absent for drafts),"license","licenseUrl"}}`.
- Rate limits: none documented; tests inject 429s (with `Retry-After`) as faults.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from html.parser import HTMLParser
from typing import Any

from tests.emulators.base import Emulator, Request, Response, route

FIELDS = (
    "title",
    "contentFormat",
    "content",
    "tags",
    "canonicalUrl",
    "publishStatus",
    "license",
    "notifyFollowers",
)
STATUSES = ("public", "draft", "unlisted")
LICENSES = (
    "all-rights-reserved",
    "cc-40-by",
    "cc-40-by-sa",
    "cc-40-by-nd",
    "cc-40-by-nc",
    "cc-40-by-nc-nd",
    "cc-40-by-nc-sa",
    "cc-40-zero",
    "public-domain",
)


def _errors(status: int, message: str, code: int) -> Response:
    return Response(status, {"errors": [{"message": message, "code": code}]})


class MediumEmulator(Emulator):
    name = "medium"

    def __init__(self) -> None:
        super().__init__()
        self.users: dict[str, dict[str, Any]] = {}  # token -> user
        self.orphaned: set[str] = set()  # tokens whose application Medium removed
        self.posts: list[dict[str, Any]] = []
        self._ids = itertools.count(0xA1B2C3)

    def add_user(self, token: str, username: str) -> dict[str, Any]:
        user = {
            "id": secrets.token_hex(32)[:65],
            "username": username,
            "name": username.title(),
            "url": f"https://medium.com/@{username}",
            "imageUrl": f"https://cdn-images-1.medium.com/fit/c/400/400/{username}.png",
        }
        self.users[token] = user
        return user

    def orphan(self, token: str) -> None:
        """Make `token` answer 6005 "Application not found", as many old tokens now do."""
        self.orphaned.add(token)

    def published(self) -> list[dict[str, Any]]:
        """What Medium holds: for tests only, the API itself cannot list posts."""
        with self.lock:
            return [dict(p) for p in self.posts]

    # -- auth --------------------------------------------------------------------

    def _auth(self, req: Request) -> tuple[dict[str, Any] | None, Response | None]:
        value = req.header("Authorization") or ""
        scheme, _, token = value.partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        if not token:
            return None, _errors(401, "An access token is required.", 6000)
        if token in self.orphaned:
            return None, _errors(401, "Application not found", 6005)
        user = self.users.get(token)
        if user is None:
            return None, _errors(401, "Token was invalid.", 6003)
        return user, None

    # -- routes --------------------------------------------------------------------

    @route("GET", r"/v1/me")
    def me(self, req: Request) -> Response:
        user, error = self._auth(req)
        if user is None:
            return error  # type: ignore[return-value]
        return Response(200, {"data": dict(user)})

    @route("GET", r"/v1/users/(?P<user_id>[^/]+)/publications")
    def publications(self, req: Request, user_id: str) -> Response:
        user, error = self._auth(req)
        if user is None:
            return error  # type: ignore[return-value]
        if user_id != user["id"]:
            return _errors(403, "Cannot list publications for another user", 6027)
        return Response(200, {"data": []})

    @route("POST", r"/v1/users/(?P<author_id>[^/]+)/posts")
    def create_post(self, req: Request, author_id: str) -> Response:
        user, error = self._auth(req)
        if user is None:
            return error  # type: ignore[return-value]
        if author_id != user["id"]:
            return _errors(403, "User does not have permission to publish as this author", 6027)
        try:
            body = req.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _errors(400, "Request body must be a JSON object", 6026)
        for name in body:
            if name not in FIELDS:
                return _errors(400, f"Unexpected field ({name}) specified", 6007)
        problem = _invalid(body)
        if problem:
            return _errors(400, problem, 6026)
        post = self._store(user, body)
        return Response(201, {"data": _post_json(post)})

    def _store(self, user: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        title = body["title"]
        if len(title) > 100:  # ignored; synthesized from the first content when published
            title = first_text(body["content"], body["contentFormat"])[:100]
        tags = [t for t in (body.get("tags") or [])[:3] if len(t) <= 25]
        status = body.get("publishStatus") or "public"
        post_id = f"{next(self._ids):x}"
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "post"
        post = {
            "id": post_id,
            "title": title,
            "authorId": user["id"],
            "tags": tags,
            "url": f"https://medium.com/@{user['username']}/{slug}-{post_id}",
            "publishStatus": status,
            "license": body.get("license") or "all-rights-reserved",
            "licenseUrl": "https://medium.com/policy/9db0094a1e0f",
            "content": body["content"],
            "contentFormat": body["contentFormat"],
            "notifyFollowers": body.get("notifyFollowers"),
            "text": title,
        }
        if body.get("canonicalUrl"):
            post["canonicalUrl"] = body["canonicalUrl"]
        if status != "draft":
            post["publishedAt"] = int(time.time() * 1000)
        with self.lock:
            self.posts.append(post)
        return post


def _invalid(body: dict[str, Any]) -> str | None:
    for name in ("title", "contentFormat", "content"):
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            return f"Required field ({name}) was not specified"
    if body["contentFormat"] not in ("html", "markdown"):
        return "Invalid contentFormat: expected html or markdown"
    if body.get("publishStatus") is not None and body["publishStatus"] not in STATUSES:
        return "Invalid publishStatus: expected public, draft or unlisted"
    if body.get("license") is not None and body["license"] not in LICENSES:
        return "Invalid license"
    tags = body.get("tags")
    if tags is not None and (
        not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)
    ):
        return "Invalid tags: expected an array of strings"
    if body.get("canonicalUrl") is not None and not re.match(
        r"https?://\S+$", str(body["canonicalUrl"])
    ):
        return "Invalid canonicalUrl"
    return None


def _post_json(post: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "id",
        "title",
        "authorId",
        "tags",
        "url",
        "canonicalUrl",
        "publishStatus",
        "publishedAt",
        "license",
        "licenseUrl",
    )
    return {k: post[k] for k in keys if k in post}


class _FirstText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found = ""

    def handle_data(self, data: str) -> None:
        if not self.found and data.strip():
            self.found = data.strip()


def first_text(content: str, fmt: str) -> str:
    """The first text in the content: what Medium makes a title from."""
    if fmt == "html":
        parser = _FirstText()
        parser.feed(content)
        return parser.found
    for line in content.splitlines():
        if line.strip():
            return line.lstrip("#").strip()
    return ""
