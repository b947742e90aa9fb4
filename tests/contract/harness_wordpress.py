"""The contract suite against a real WordPress, behind a fault-injecting proxy.

WordPress is the session's shared server (`tests.servers.wordpress.shared_wordpress`,
stopped at exit); the proxy is this harness's own. `posts()` asks WordPress directly,
past the proxy, so an injected fault never hides what the site holds.
"""

from __future__ import annotations

from typing import Any

import requests
from pydantic import SecretStr

from connectors.base import Account, Connector
from connectors.wordpress import WordPress
from tests.contract.harness import Harness
from tests.emulators.proxy import ReverseProxy
from tests.servers.wordpress import WordPressServer, shared_wordpress


def wordpress_posts(wp: WordPressServer) -> list[dict[str, Any]]:
    """Every post the site holds, whatever its status, with its raw title as `text`."""
    posts: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = requests.get(
            f"{wp.api}/posts",
            auth=(wp.user, wp.app_password),
            params={"status": "any", "context": "edit", "per_page": "100", "page": str(page)},
            timeout=30,
        )
        answer.raise_for_status()
        for post in answer.json():
            posts.append({**post, "text": post["title"]["raw"]})
        if page >= int(answer.headers.get("X-WP-TotalPages", "1")):
            return posts
        page += 1


class WordPressHarness(Harness):
    platform = "wordpress"
    create_path = r"/wp-json/wp/v2/posts$"

    def __init__(self, wp: WordPressServer) -> None:
        self.wp = wp
        self.proxy = ReverseProxy(wp.base_url).start()

    @property
    def server(self) -> ReverseProxy:
        return self.proxy

    def connector(self, *, valid_credentials: bool = True) -> Connector:
        password = self.wp.app_password if valid_credentials else "abcd efgh ijkl mnop qrst uvwx"
        account = Account(
            name="wordpress-contract",
            platform="wordpress",
            credentials={"user": SecretStr(self.wp.user), "app_password": SecretStr(password)},
            base_url=self.proxy.base_url,
        )
        return WordPress(account)

    def posts(self) -> list[dict[str, Any]]:
        return wordpress_posts(self.wp)

    def rate_limit_fault(self, retry_after: int) -> dict[str, Any]:
        # Core WordPress has no limiter; hosts that add one answer in the REST error shape.
        return {
            "status": 429,
            "body": {
                "code": "rest_too_many_requests",
                "message": "Too many requests. Please slow down.",
                "data": {"status": 429},
            },
            "headers": {"Retry-After": str(retry_after)},
        }

    def close(self) -> None:
        self.proxy.stop()


def make_harness() -> Harness:
    return WordPressHarness(shared_wordpress())
