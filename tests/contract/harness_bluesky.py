"""Bluesky contract harness: the real PDS (tests/servers/pds.py) behind a fault proxy."""

from __future__ import annotations

import time
from typing import Any

import requests
from pydantic import SecretStr

from connectors.base import Account
from connectors.bluesky import COLLECTION, Bluesky
from tests.contract.harness import Harness
from tests.emulators.proxy import ReverseProxy
from tests.servers.pds import PdsServer, shared_pds


class BlueskyHarness(Harness):
    platform = "bluesky"
    create_path = r"/xrpc/com.atproto\.repo\.createRecord$"

    def __init__(self, pds: PdsServer) -> None:
        self.pds = pds
        self.proxy = ReverseProxy(pds.base_url).start()
        self.handle, self.did, self.app_password, self.password = pds.new_account()

    @property
    def server(self) -> ReverseProxy:
        return self.proxy

    def connector(self, *, valid_credentials: bool = True) -> Bluesky:
        app_password = self.app_password if valid_credentials else "abcd-efgh-ijkl-mnop"
        account = Account(
            name="bluesky-contract",
            platform="bluesky",
            credentials={
                "identifier": SecretStr(self.handle),
                "app_password": SecretStr(app_password),
            },
            base_url=self.proxy.base_url,
        )
        return Bluesky(account)

    def posts(self) -> list[dict[str, Any]]:
        """Every post record in the account's repo, read straight from the PDS."""
        return [
            {"id": r["uri"].rsplit("/", 1)[1], "text": r["value"].get("text", "")}
            for r in list_records(self.pds.base_url, self.did)
        ]

    def rate_limit_fault(self, retry_after: int) -> dict[str, Any]:
        return {
            "status": 429,
            "body": {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
            "headers": {
                "Retry-After": str(retry_after),
                "RateLimit-Limit": "5000",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(int(time.time()) + retry_after),
                "RateLimit-Policy": "5000;w=3600",
            },
        }

    def close(self) -> None:
        # The PDS is shared with tests/test_connector_bluesky.py; it stops at session end.
        self.proxy.stop()


def list_records(base_url: str, did: str) -> list[dict[str, Any]]:
    """All `app.bsky.feed.post` records of a repo (listRecords, following the cursor)."""
    records: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"repo": did, "collection": COLLECTION, "limit": "100"}
        if cursor:
            params["cursor"] = cursor
        answer = requests.get(
            f"{base_url}/xrpc/com.atproto.repo.listRecords", params=params, timeout=30
        )
        answer.raise_for_status()
        data = answer.json()
        records.extend(data.get("records", []))
        cursor = data.get("cursor")
        if not cursor or not data.get("records"):
            return records


def make_harness() -> BlueskyHarness:
    return BlueskyHarness(shared_pds())
