"""A Forem (dev.to) API v1, as far as a cross-poster touches it.

Facts enforced (forem/forem: articles controller concern, `Article` model, Rack::Attack
initializer, rate limit checker; [U] marks an assumption kept strict):
- Auth: `api-key` header; missing or unknown -> 401 `{"error":"unauthorized","status":401}`
  [U exact text]. No `User-Agent` -> 403 "Forbidden Bots" [U, observed on dev.to].
- Emulator strictness, not Forem behaviour: a request without
  `Accept: application/vnd.forem.api-v1+json` gets 406 (Forem would serve the old v0 API).
- `POST /api/articles {"article": {...}}`: `article` must be a hash, else 422
  "article param must be a JSON object. You provided article as <Class>" [U exact text].
  Permitted fields: title, body_markdown, published, series, main_image, canonical_url,
  description, tags (array; a comma string is split as older clients send), organization_id;
  others are dropped. Success 201, `Location` = article URL, body = the article (`id`,
  `url`, `path`, `slug`, `canonical_url`, `body_markdown`, `tag_list`, `tags`, ...).
- Validation -> 422 `{"error": "<sentences>", "status": 422}`, Rails' `to_sentence` of:
  "Title can't be blank", "Title is too long (maximum is 128 characters)",
  "Tag list exceed the maximum of 4 tags", `Tag "x" contains non-alphanumeric or
  prohibited unicode characters` [U text], `Tag "x" is too long (maximum is 30 characters)`,
  "Canonical url has already been taken" (unique site-wide), "Canonical url is not a valid
  URL", "Main image is not a valid URL" [U text], "Body markdown has already been taken"
  (same author, title and body), and on create "Title has already been used in the last
  five minutes" (same author, same title, within 300 s).
- `PUT /api/articles/{id}` same body -> 200; not the key owner's article -> 404
  `{"error":"not found","status":404}`. No delete route (404).
- `GET /api/articles/me/all` (`me/published`, `me/unpublished`, `me`): the key owner's
  articles with `body_markdown`, newest `published_at` first with drafts (no date) before
  them; `per_page` default 30, at most 1000; `page` from 1. `GET /api/users/me`.
- Rack::Attack (fixed windows aligned to the clock): POST/PUT/DELETE 1 per second per
  IP+api-key, GET 3 per second per IP; over -> 429, text body "Retry later", header
  `Retry-After: <seconds to the window's end>`. App limiter: at most 9 new published
  articles per 30 s per user -> 429 `{"error":"Rate limit reached, try again in 30
  seconds","status":429}`, `Retry-After: 30`.
"""

from __future__ import annotations

import itertools
import math
import random
import re
import string
import time
from collections.abc import Callable
from typing import Any

from tests.emulators.base import Emulator, Request, Response, route

ACCEPT = "application/vnd.forem.api-v1+json"
PERMITTED = (
    "title",
    "body_markdown",
    "published",
    "series",
    "main_image",
    "canonical_url",
    "description",
    "tags",
    "organization_id",
)
TITLE_WINDOW = 300.0


class DevToEmulator(Emulator):
    name = "devto"

    def __init__(
        self,
        host: str = "dev.to",
        clock: Callable[[], float] = time.time,
        write_limit: int = 1,
        read_limit: int = 3,
        publish_limit: int = 9,
        publish_period: float = 30.0,
    ) -> None:
        super().__init__()
        self.host = host
        self.clock = clock
        self.write_limit = write_limit
        self.read_limit = read_limit
        self.publish_limit = publish_limit
        self.publish_period = publish_period
        self.users: dict[str, dict[str, Any]] = {}  # api key -> user
        self.articles: dict[int, dict[str, Any]] = {}
        self.write_times: list[float] = []  # writes let through Rack::Attack, for tests
        self.throttled: list[Request] = []
        self.last_retry_after: str | None = None  # the wait the last throttled answer named
        self._windows: dict[tuple[str, int], int] = {}
        self._ids = itertools.count(1000001)

    def add_user(self, api_key: str, username: str) -> dict[str, Any]:
        user = {"id": len(self.users) + 1, "username": username, "name": username.title()}
        self.users[api_key] = user
        return user

    def published(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(a) for a in self.articles.values()]

    # -- middleware: bots, Rack::Attack, version -------------------------------

    def handle(self, req: Request) -> Response:
        if not req.header("User-Agent"):
            return Response(403, "Forbidden Bots", content_type="text/plain")
        throttled = self._rack_attack(req)
        if throttled is not None:
            return throttled
        if req.path.startswith("/api/") and req.header("Accept") != ACCEPT:
            return Response(
                406,
                {
                    "error": f"this emulator serves API v1 only: send Accept: {ACCEPT}",
                    "status": 406,
                },
            )
        return super().handle(req)

    def _rack_attack(self, req: Request) -> Response | None:
        if not req.path.startswith("/api/"):
            return None
        now = time.time()  # the throttle counts real seconds, whatever the model's clock says
        if req.method in ("POST", "PUT", "DELETE"):
            bucket, limit = f"write:127.0.0.1-{req.header('api-key') or ''}", self.write_limit
        elif req.method == "GET":
            bucket, limit = "read:127.0.0.1", self.read_limit
        else:
            return None
        window = int(now)  # period 1 s: Rack::Attack keys the count by now / period
        with self.lock:
            count = self._windows.get((bucket, window), 0) + 1
            self._windows[(bucket, window)] = count
            if count > limit:
                self.throttled.append(req)
                retry = max(1, math.ceil(window + 1 - now))
                self.last_retry_after = str(retry)
                return Response(
                    429, "Retry later\n", {"Retry-After": str(retry)}, content_type="text/plain"
                )
            if bucket.startswith("write"):
                self.write_times.append(now)
        return None

    # -- auth --------------------------------------------------------------------

    def _user(self, req: Request) -> dict[str, Any] | None:
        return self.users.get(req.header("api-key") or "")

    @staticmethod
    def _unauthorized() -> Response:
        return Response(401, {"error": "unauthorized", "status": 401})

    # -- routes --------------------------------------------------------------------

    @route("GET", r"/api/users/me")
    def users_me(self, req: Request) -> Response:
        user = self._user(req)
        if user is None:
            return self._unauthorized()
        return Response(200, {"type_of": "user", **user})

    @route("GET", r"/api/articles/me(?:/(?P<status>all|published|unpublished))?")
    def my_articles(self, req: Request, status: str | None = None) -> Response:
        user = self._user(req)
        if user is None:
            return self._unauthorized()
        per_page = min(int(req.arg("per_page") or 30), 1000)
        page = max(1, int(req.arg("page") or 1))
        with self.lock:
            mine = [a for a in self.articles.values() if a["user_id"] == user["id"]]
        if status in (None, "published"):
            mine = [a for a in mine if a["published"]]
        elif status == "unpublished":
            mine = [a for a in mine if not a["published"]]
        # ORDER BY published_at DESC, created_at DESC: NULLs (drafts) first in PostgreSQL.
        mine.sort(key=lambda a: (a["published_at"] or math.inf, a["created_at"]), reverse=True)
        chosen = mine[(page - 1) * per_page : page * per_page]
        return Response(200, [self._me_json(a) for a in chosen])

    @route("POST", r"/api/articles")
    def create_article(self, req: Request) -> Response:
        user = self._user(req)
        if user is None:
            return self._unauthorized()
        fields, error = _article_params(req)
        if error:
            return error
        with self.lock:
            now = self.clock()
            errors = self._validate(user, fields, None, now)
            if errors:
                return _unprocessable(errors)
            if fields.get("published") and self._over_publish_limit(user, now):
                return Response(
                    429,
                    {"error": "Rate limit reached, try again in 30 seconds", "status": 429},
                    {"Retry-After": "30"},
                )
            article = self._new_article(user, fields, now)
            self.articles[article["id"]] = article
        return Response(201, self._show_json(article), {"Location": article["url"]})

    @route("PUT", r"/api/articles/(?P<article_id>\d+)")
    def update_article(self, req: Request, article_id: str) -> Response:
        user = self._user(req)
        if user is None:
            return self._unauthorized()
        fields, error = _article_params(req)
        if error:
            return error
        with self.lock:
            article = self.articles.get(int(article_id))
            if article is None or article["user_id"] != user["id"]:
                return Response(404, {"error": "not found", "status": 404})
            merged = {**{k: article.get(k) for k in PERMITTED}, **fields}
            errors = self._validate(user, merged, article, self.clock())
            if errors:
                return _unprocessable(errors)
            self._apply(article, fields, self.clock())
            article["edited_at"] = self.clock()
        return Response(200, self._show_json(article))

    # -- model -----------------------------------------------------------------------

    def _validate(
        self,
        user: dict[str, Any],
        fields: dict[str, Any],
        current: dict[str, Any] | None,
        now: float,
    ) -> list[str]:
        errors: list[str] = []
        title = (fields.get("title") or "").strip()
        others = [a for a in self.articles.values() if current is None or a["id"] != current["id"]]
        if not title:
            errors.append("Title can't be blank")
        elif len(title) > 128:
            errors.append("Title is too long (maximum is 128 characters)")
        body = fields.get("body_markdown") or ""
        if len(body.encode("utf-8")) > 800 * 1024:
            errors.append("Body markdown is too long.")
        tags = _tag_list(fields.get("tags"))
        if len(tags) > 4:
            errors.append("Tag list exceed the maximum of 4 tags")
        else:
            for tag in tags:
                if not re.fullmatch(r"\w+", tag) or "_" in tag:
                    errors.append(
                        f'Tag "{tag}" contains non-alphanumeric or prohibited unicode characters'
                    )
                elif len(tag) > 30:
                    errors.append(f'Tag "{tag}" is too long (maximum is 30 characters)')
        canonical = fields.get("canonical_url")
        if canonical:
            if not _web_url(canonical) or re.search(r"\s", canonical):
                errors.append("Canonical url is not a valid URL")
            elif any(a["canonical_url"] == canonical for a in others):
                errors.append("Canonical url has already been taken")
        image = fields.get("main_image")
        if image and not _web_url(image):
            errors.append("Main image is not a valid URL")
        mine = [a for a in others if a["user_id"] == user["id"]]
        if any(a["title"] == title and a["body_markdown"] == body for a in mine):
            errors.append("Body markdown has already been taken")
        if current is None and any(
            a["title"] == title and now - a["created_at"] < TITLE_WINDOW for a in mine
        ):
            errors.append("Title has already been used in the last five minutes")
        return errors

    def _over_publish_limit(self, user: dict[str, Any], now: float) -> bool:
        recent = [
            a
            for a in self.articles.values()
            if a["user_id"] == user["id"]
            and a["published"]
            and now - a["created_at"] < self.publish_period
        ]
        return len(recent) >= self.publish_limit

    def _new_article(self, user: dict[str, Any], fields: dict[str, Any], now: float) -> dict:
        article: dict[str, Any] = {
            "id": next(self._ids),
            "user_id": user["id"],
            "username": user["username"],
            "created_at": now,
            "published_at": None,
            "edited_at": None,
            "published": False,
            "title": "",
            "body_markdown": "",
            "description": None,
            "main_image": None,
            "canonical_url": None,
            "series": None,
            "organization_id": None,
            "tags": [],
            "slug": "",
        }
        self._apply(article, fields, now)
        return article

    def _apply(self, article: dict[str, Any], fields: dict[str, Any], now: float) -> None:
        for key in PERMITTED:
            if key in fields:
                article[key] = _tag_list(fields[key]) if key == "tags" else fields[key]
        article["title"] = (article["title"] or "").strip()
        article["published"] = bool(article["published"])
        if article["published"] and article["published_at"] is None:
            article["published_at"] = now
        if not article["slug"] or (article["published"] and "-temp-slug-" in article["slug"]):
            base = re.sub(r"[^a-z0-9]+", "-", article["title"].lower()).strip("-")
            suffix = "".join(random.choices(string.ascii_lowercase[:26], k=4))
            temp = "" if article["published"] else f"-temp-slug-{random.randrange(10**7)}"
            article["slug"] = f"{base}-{suffix}{temp}"
        if not article["description"]:
            text = re.sub(r"\s+", " ", article["body_markdown"]).strip()
            article["description"] = text[:100] + ("..." if len(text) > 100 else "")
        article["path"] = f"/{article['username']}/{article['slug']}"
        article["url"] = f"https://{self.host}{article['path']}"

    def _show_json(self, a: dict[str, Any]) -> dict[str, Any]:
        return {
            "type_of": "article",
            "id": a["id"],
            "title": a["title"],
            "description": a["description"],
            "slug": a["slug"],
            "path": a["path"],
            "url": a["url"],
            "canonical_url": a["canonical_url"] or a["url"],
            "published": a["published"],
            "published_at": _iso(a["published_at"]),
            "edited_at": _iso(a["edited_at"]),
            "cover_image": a["main_image"],
            "tag_list": ", ".join(a["tags"]),
            "tags": list(a["tags"]),
            "body_markdown": a["body_markdown"],
            "user": {"username": a["username"]},
        }

    def _me_json(self, a: dict[str, Any]) -> dict[str, Any]:
        return {
            "type_of": "article",
            "id": a["id"],
            "title": a["title"],
            "description": a["description"],
            "published": a["published"],
            "published_at": _iso(a["published_at"]),
            "slug": a["slug"],
            "path": a["path"],
            "url": a["url"],
            "canonical_url": a["canonical_url"] or a["url"],
            "cover_image": a["main_image"],
            "tag_list": list(a["tags"]),
            "body_markdown": a["body_markdown"],
        }


def _article_params(req: Request) -> tuple[dict[str, Any], Response | None]:
    try:
        data = req.json()
    except ValueError:
        data = None
    article = data.get("article") if isinstance(data, dict) else None
    if not isinstance(article, dict):
        kind = {str: "String", list: "Array", int: "Integer", type(None): "NilClass"}.get(
            type(article), type(article).__name__
        )
        message = f"article param must be a JSON object. You provided article as {kind}"
        return {}, Response(422, {"error": message, "status": 422})
    return {k: v for k, v in article.items() if k in PERMITTED}, None


def _tag_list(value: Any) -> list[str]:
    """acts_as_taggable_on: a comma string or an array, stripped, lowercased, unique."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    tags: list[str] = []
    for item in items:
        tag = str(item).strip().lower()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def _unprocessable(errors: list[str]) -> Response:
    return Response(422, {"error": _to_sentence(errors), "status": 422})


def _to_sentence(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def _web_url(value: Any) -> bool:
    return isinstance(value, str) and re.match(r"https?://[^/\s]+", value) is not None


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
