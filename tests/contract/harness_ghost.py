"""The contract suite against a real Ghost 6, behind a fault-injecting proxy.

Ghost itself is the run's shared server (`tests.servers.ghost.shared`); the proxy is this
harness's own and is stopped with it. `posts()` asks Ghost directly, past the proxy, so an
injected fault never hides what Ghost holds.
"""

from __future__ import annotations

from typing import Any

import requests
from pydantic import SecretStr

from connectors.base import Account, Connector
from connectors.ghost import ACCEPT_VERSION, Ghost, admin_token
from tests.contract.harness import Harness
from tests.emulators.proxy import ReverseProxy
from tests.servers.ghost import GhostServer, shared


def wrong_secret(admin_key: str) -> str:
    """The same key id with another secret: Ghost knows the key, the signature is wrong."""
    key_id, _, secret = admin_key.partition(":")
    flipped = "".join("0" if c != "0" else "1" for c in secret)
    return f"{key_id}:{flipped}"


def ghost_posts(ghost: GhostServer) -> list[dict[str, Any]]:
    """Every post Ghost holds, whatever its status, page by page (`limit=all` stops at 100)."""
    posts: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = requests.get(
            f"{ghost.base_url}/ghost/api/admin/posts/",
            headers={
                "Authorization": f"Ghost {admin_token(ghost.admin_key)}",
                "Accept-Version": ACCEPT_VERSION,
            },
            params={
                "limit": "100",
                "page": str(page),
                "filter": "status:[draft,published,scheduled]",
                "fields": "id,title,slug,status,visibility",
            },
            timeout=30,
        )
        answer.raise_for_status()
        data = answer.json()
        posts += [{**post, "text": post["title"]} for post in data["posts"]]
        pages = data.get("meta", {}).get("pagination", {}).get("pages") or 1
        if page >= pages or not data["posts"]:
            return posts
        page += 1


class GhostHarness(Harness):
    platform = "ghost"
    create_path = r"/ghost/api/admin/posts/$"

    def __init__(self, ghost: GhostServer) -> None:
        self.ghost = ghost
        self.proxy = ReverseProxy(ghost.base_url).start()

    @property
    def server(self) -> ReverseProxy:
        return self.proxy

    def connector(self, *, valid_credentials: bool = True) -> Connector:
        key = self.ghost.admin_key if valid_credentials else wrong_secret(self.ghost.admin_key)
        account = Account(
            name="ghost-contract",
            platform="ghost",
            credentials={"admin_key": SecretStr(key)},
            base_url=self.proxy.base_url,
        )
        return Ghost(account)

    def posts(self) -> list[dict[str, Any]]:
        return ghost_posts(self.ghost)

    def rate_limit_fault(self, retry_after: int) -> dict[str, Any]:
        # Ghost's own limiter (brute/spam prevention) answers in its error shape.
        return {
            "status": 429,
            "body": {
                "errors": [
                    {
                        "message": "Too many attempts.",
                        "type": "TooManyRequestsError",
                        "code": None,
                        "context": "Too many requests, please slow down.",
                    }
                ]
            },
            "headers": {"Retry-After": str(retry_after)},
        }

    def close(self) -> None:
        self.proxy.stop()


def make_harness() -> Harness:
    return GhostHarness(shared())
