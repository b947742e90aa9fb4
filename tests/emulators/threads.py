"""Meta's Threads API (`graph.threads.net/v1.0`), as far as a cross-poster touches it.

Facts enforced ([U] marks an assumption kept strict):
- Auth: `access_token` as a query or form parameter. Missing or unknown -> 400
  `{"error":{"message":"Invalid OAuth access token - Cannot parse access token",
  "type":"OAuthException","code":190,"fbtrace_id":…}}`. Every error has that Graph shape
  (`message`, `type`, `code`, `error_subcode`, `fbtrace_id`).
- Publishing is two steps. `POST /{user-id}/threads` with `media_type=TEXT`, `text`,
  `link_attachment` (http(s) URL), `reply_to_id` (a published post, else code 100 subcode
  33 [U text]) -> `{"id": <container>}`. Text over 500 characters, each emoji counted as its
  UTF-8 bytes (this emulator's own counter, twitter-text's emoji extractor) -> code 100 [U
  text]. `POST /{user-id}/threads_publish?creation_id=<container>` -> `{"id": <media>}`; an
  unknown container -> code 100 subcode 33; a container already published -> code 100
  subcode 4279009 "The media has already been published" [U]. Containers of another user
  are unknown. (Real containers expire after 24 h; nothing here depends on it.)
- Limits at `threads_publish`, 24-hour moving window per profile: 250 posts and 1,000
  replies (configurable); over -> code 4 "Application request limit reached" [U code].
  `GET /{user-id}/threads_publishing_limit?fields=quota_usage,config,reply_quota_usage,
  reply_config` -> `{"data":[{"quota_usage":n,"config":{"quota_total":250,
  "quota_duration":86400},...}]}`.
- Reads: `GET /me?fields=id,username`; `GET /{media-id}?fields=id,text,permalink,...`;
  `GET /{user-id}/threads?fields=…&limit=N` (the user's top-level posts, newest first, limit
  default 25, at most 100 [U]) and `GET /{media-id}/replies?fields=…` (direct replies), both
  `{"data":[…],"paging":{…}}`. Permalinks `https://www.threads.net/@<user>/post/<code>`.
  `DELETE /{media-id}` -> `{"success":true}`.
- Links: a post whose text and link card hold more than 5 distinct links -> code 100,
  `THREADS_API__LINK_LIMIT_EXCEEDED` (since 2025-12-22) [U message].
- Tokens may carry an expiry (`add_user(..., lifetime=)`); an expired one -> code 190
  "Session has expired". `GET /refresh_access_token?grant_type=th_refresh_token&
  access_token=…` (a valid token at least 24 h old) -> `{"access_token","token_type":
  "bearer","expires_in":5184000}`, a new 60-day token; the old one lasts until its own
  expiry [U]. `refreshes` counts them.
"""

from __future__ import annotations

import itertools
import secrets
import string
import time
from typing import Any

from twitter_text import extract_emojis_with_indices, extract_urls_with_indices

from tests.emulators.base import Emulator, Request, Response, route

MAX_TEXT = 500
MAX_LINKS = 5
LONG_LIVED = 60 * 86400.0
REFRESH_MIN_AGE = 86400.0
WINDOW = 86400.0
MEDIA_FIELDS = {
    "id",
    "text",
    "permalink",
    "username",
    "timestamp",
    "media_type",
    "media_product_type",
    "shortcode",
    "is_reply",
    "replied_to",
    "root_post",
}


def graph_error(message: str, code: int, subcode: int | None = None, status: int = 400) -> Response:
    body: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "A" + secrets.token_hex(10),
    }
    if subcode is not None:
        body["error_subcode"] = subcode
    return Response(status, {"error": body})


def threads_length(text: str) -> int:
    """Characters, with every emoji counted as its UTF-8 bytes (Threads' documented rule)."""
    total = len(text)
    for emoji in extract_emojis_with_indices(text):
        start, end = emoji["indices"]
        total += len(text[start:end].encode("utf-8")) - (end - start)
    return total


class ThreadsEmulator(Emulator):
    name = "threads"

    def __init__(
        self, post_quota: int = 250, reply_quota: int = 1000, window: float = WINDOW
    ) -> None:
        super().__init__()
        self.post_quota, self.reply_quota, self.window = post_quota, reply_quota, window
        self.clock = time.time
        self.users: dict[str, dict[str, Any]] = {}  # token -> user
        self.containers: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.refused_publishes = 0  # threads_publish answered "limit reached"
        self.token_times: dict[str, tuple[float, float]] = {}  # token -> (issued, expires)
        self.refreshes = 0
        self._ids = itertools.count(17_900_000_000_000_001)

    # -- test helpers ------------------------------------------------------

    def add_user(
        self,
        token: str,
        username: str = "writer",
        lifetime: float | None = None,
        age: float = 0.0,
    ) -> dict[str, Any]:
        """A user and token; `lifetime` seconds left makes it expire, `age` its time issued."""
        user = {"id": str(next(self._ids)), "username": username}
        self.users[token] = user
        if lifetime is not None:
            now = self.clock()
            self.token_times[token] = (now - age, now + lifetime)
        return user

    def published(self) -> list[dict[str, Any]]:
        """Live posts in publishing order, each with `text`, `reply_to_id` and `permalink`."""
        with self.lock:
            return [dict(m) for m in self.media.values()]

    def usage(self, user_id: str, replies: bool = False) -> int:
        now = self.clock()
        with self.lock:
            return sum(
                1
                for m in self.media.values()
                if m["owner"] == user_id
                and bool(m["reply_to_id"]) == replies
                and now - m["published_at"] < self.window
            )

    # -- plumbing ------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        token = req.arg("access_token")
        if token is None and req.method == "POST":
            token = (req.form().get("access_token") or [None])[0]
        user = self.users.get(token or "")
        if user is None:
            return graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        issued, expires = self.token_times.get(token or "", (0.0, float("inf")))
        if self.clock() >= expires:
            return graph_error("Error validating access token: Session has expired", 190, 463)
        if req.method == "GET" and req.path == "/refresh_access_token":
            return self._refresh(req, token or "", user, issued)
        req.headers["X-Emulator-User"] = user["id"]
        return super().handle(req)

    def _refresh(self, req: Request, token: str, user: dict[str, Any], issued: float) -> Response:
        if req.arg("grant_type") != "th_refresh_token":
            return graph_error("Unsupported grant_type", 100)
        if self.clock() - issued < REFRESH_MIN_AGE:
            return graph_error("The access token must be at least 24 hours old to refresh", 100)
        fresh = secrets.token_urlsafe(32)
        with self.lock:
            self.users[fresh] = user
            self.token_times[fresh] = (self.clock(), self.clock() + LONG_LIVED)
            self.refreshes += 1
        return Response(
            200, {"access_token": fresh, "token_type": "bearer", "expires_in": int(LONG_LIVED)}
        )

    def not_found(self, req: Request) -> Response:
        return graph_error("Unknown path components: " + req.path, 2500)

    def _user(self, req: Request) -> dict[str, Any]:
        return next(u for u in self.users.values() if u["id"] == req.headers["X-Emulator-User"])

    def _own(self, req: Request, user_id: str) -> Response | None:
        if user_id != self._user(req)["id"]:
            return graph_error(
                f"Unsupported post request. Object with ID '{user_id}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation.",
                100,
                33,
            )
        return None

    # -- reads -------------------------------------------------------------------

    @route("GET", r"/v1\.0/me")
    def me(self, req: Request) -> Response:
        user = self._user(req)
        return Response(200, _fields(user, req, {"id", "username"}))

    @route("GET", r"/v1\.0/(?P<user_id>\d+)/threads_publishing_limit")
    def publishing_limit(self, req: Request, user_id: str) -> Response:
        problem = self._own(req, user_id)
        if problem:
            return problem
        row = {
            "quota_usage": self.usage(user_id),
            "config": {"quota_total": self.post_quota, "quota_duration": int(self.window)},
            "reply_quota_usage": self.usage(user_id, replies=True),
            "reply_config": {"quota_total": self.reply_quota, "quota_duration": int(self.window)},
        }
        wanted = set((req.arg("fields") or "quota_usage,config").split(","))
        return Response(200, {"data": [{k: v for k, v in row.items() if k in wanted}]})

    @route("GET", r"/v1\.0/(?P<user_id>\d+)/threads")
    def user_threads(self, req: Request, user_id: str) -> Response:
        problem = self._own(req, user_id)
        if problem:
            return problem
        limit = min(100, int(req.arg("limit") or 25))
        with self.lock:
            found = [
                m
                for m in reversed(self.media.values())
                if m["owner"] == user_id and not m["reply_to_id"]
            ]
        return _page([_fields(m, req, MEDIA_FIELDS) for m in found[:limit]])

    @route("GET", r"/v1\.0/(?P<media_id>\d+)/replies")
    def replies(self, req: Request, media_id: str) -> Response:
        if media_id not in self.media:
            return self._unknown(media_id)
        with self.lock:
            found = [m for m in self.media.values() if m["reply_to_id"] == media_id]
        return _page([_fields(m, req, MEDIA_FIELDS) for m in found])

    @route("GET", r"/v1\.0/(?P<media_id>\d+)")
    def get_media(self, req: Request, media_id: str) -> Response:
        media = self.media.get(media_id)
        if media is None:
            return self._unknown(media_id)
        return Response(200, _fields(media, req, MEDIA_FIELDS))

    def _unknown(self, object_id: str) -> Response:
        return graph_error(
            f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation.",
            100,
            33,
        )

    # -- publishing --------------------------------------------------------------

    @route("POST", r"/v1\.0/(?P<user_id>\d+)/threads")
    def create_container(self, req: Request, user_id: str) -> Response:
        problem = self._own(req, user_id)
        if problem:
            return problem
        params = {
            **{k: v[-1] for k, v in req.query.items()},
            **{k: v[-1] for k, v in req.form().items()},
        }
        if params.get("media_type") != "TEXT":
            return graph_error(
                "Param media_type must be one of {TEXT, IMAGE, VIDEO, CAROUSEL}"
                " (this emulator: TEXT only)",
                100,
            )
        text = params.get("text", "")
        if not text.strip():
            return graph_error("Param text is required for TEXT posts", 100)
        if threads_length(text) > MAX_TEXT:
            return graph_error(f"Param text must be at most {MAX_TEXT} characters long.", 100)
        link = params.get("link_attachment")
        if link is not None and not link.startswith(("http://", "https://")):
            return graph_error("Param link_attachment must be a valid URL", 100)
        links = {u["url"] for u in extract_urls_with_indices(text)} | ({link} if link else set())
        if len(links) > MAX_LINKS:
            return graph_error(
                f"THREADS_API__LINK_LIMIT_EXCEEDED: a post may hold at most {MAX_LINKS} links",
                100,
            )
        reply_to = params.get("reply_to_id")
        if reply_to and reply_to not in self.media:
            return self._unknown(reply_to)
        container_id = str(next(self._ids))
        with self.lock:
            self.containers[container_id] = {
                "id": container_id,
                "owner": user_id,
                "text": text,
                "link_attachment": link,
                "reply_to_id": reply_to or None,
                "published": None,
            }
        return Response(200, {"id": container_id})

    @route("POST", r"/v1\.0/(?P<user_id>\d+)/threads_publish")
    def publish(self, req: Request, user_id: str) -> Response:
        problem = self._own(req, user_id)
        if problem:
            return problem
        creation_id = req.arg("creation_id") or (req.form().get("creation_id") or [None])[0]
        with self.lock:
            container = self.containers.get(creation_id or "")
            if container is None or container["owner"] != user_id:
                return self._unknown(str(creation_id))
            if container["published"]:
                return graph_error("The media has already been published", 100, 4279009)
            replying = bool(container["reply_to_id"])
            quota = self.reply_quota if replying else self.post_quota
            if self.usage(user_id, replies=replying) >= quota:
                self.refused_publishes += 1
                return graph_error("Application request limit reached", 4, 2207051)
            media_id = str(next(self._ids))
            username = self._user(req)["username"]
            code = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(11))
            self.media[media_id] = {
                "id": media_id,
                "owner": user_id,
                "username": username,
                "text": container["text"],
                "link_attachment": container["link_attachment"],
                "reply_to_id": container["reply_to_id"],
                "container": container["id"],
                "permalink": f"https://www.threads.net/@{username}/post/{code}",
                "shortcode": code,
                "media_type": "TEXT_POST",
                "media_product_type": "THREADS",
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(self.clock())),
                "published_at": self.clock(),
            }
            container["published"] = media_id
        return Response(200, {"id": media_id})

    @route("DELETE", r"/v1\.0/(?P<media_id>\d+)")
    def delete(self, req: Request, media_id: str) -> Response:
        with self.lock:
            media = self.media.get(media_id)
            if media is None or media["owner"] != self._user(req)["id"]:
                return self._unknown(media_id)
            del self.media[media_id]
        return Response(200, {"success": True})


def _fields(obj: dict[str, Any], req: Request, allowed: set[str]) -> dict[str, Any]:
    wanted = set((req.arg("fields") or "id").split(",")) & allowed | {"id"}
    out = {k: obj[k] for k in wanted if k in obj and obj[k] is not None}
    if "is_reply" in wanted and "reply_to_id" in obj:
        out["is_reply"] = bool(obj["reply_to_id"])
    if "replied_to" in wanted and obj.get("reply_to_id"):
        out["replied_to"] = {"id": obj["reply_to_id"]}
    return out


def _page(items: list[dict[str, Any]]) -> Response:
    paging = {"cursors": {"before": "b", "after": "a"}} if items else {}
    return Response(200, {"data": items, "paging": paging})
