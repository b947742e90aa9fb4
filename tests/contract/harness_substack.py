"""The contract suite against the Substack emulator (session cookie, unofficial endpoints)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import SecretStr

from connectors.base import Account
from connectors.substack import Substack
from tests.contract.harness import Harness
from tests.emulators.substack import SubstackEmulator, doc_text

SID = "contract-substack-sid-0123456789"


def post_texts(emulator: SubstackEmulator) -> list[dict[str, Any]]:
    """Every post with a title as a reader (or the author, for drafts) sees it."""
    texts = []
    for draft in emulator.drafts.values():
        live = draft["is_published"] or draft["scheduled_for"]
        title = draft["title"] if live else draft["draft_title"]
        body = draft["body"] if draft["is_published"] else draft["draft_body"]
        if title or body:
            text = doc_text(json.loads(body)) if body else ""
            texts.append({"id": str(draft["id"]), "text": f"{title}\n{text}", "live": bool(live)})
    return texts


class SubstackHarness(Harness):
    platform = "substack"
    create_path = r"^/api/v1/drafts$"

    def __init__(self) -> None:
        self.emulator = SubstackEmulator()
        self.emulator.add_user(SID, "Contract Writer")
        self.emulator.start()

    @property
    def server(self) -> SubstackEmulator:
        return self.emulator

    def connector(self, *, valid_credentials: bool = True) -> Substack:
        sid = SID if valid_credentials else "expired-substack-sid-9876543210"
        account = Account(
            name="substack-contract",
            platform="substack",
            options={"publication_url": self.emulator.base_url},
            credentials={"session_cookie": SecretStr(f"substack.sid={sid}")},
        )
        return Substack(account)

    def posts(self) -> list[dict[str, Any]]:
        return post_texts(self.emulator)

    def rate_limit_fault(self, retry_after: int) -> dict[str, Any]:
        return {
            "status": 429,
            "body": "Too Many Requests",
            "headers": {"Retry-After": str(retry_after)},
        }

    def close(self) -> None:
        self.emulator.stop()


def make_harness() -> Harness:
    return SubstackHarness()
