"""The contract suite against the Mastodon emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from connectors.base import Account
from connectors.mastodon import Mastodon
from tests.contract.harness import Harness
from tests.emulators.mastodon import MastodonEmulator

TOKEN = "contract-mastodon-token-0123456789"


class MastodonHarness(Harness):
    platform = "mastodon"
    create_path = r"^/api/v1/statuses$"

    def __init__(self) -> None:
        self.emulator = MastodonEmulator()
        self.emulator.add_account(TOKEN, "contract")
        self.emulator.start()

    @property
    def server(self) -> MastodonEmulator:
        return self.emulator

    def connector(self, *, valid_credentials: bool = True) -> Mastodon:
        token = TOKEN if valid_credentials else "revoked-mastodon-token-9876543210"
        account = Account(
            name="mastodon-contract",
            platform="mastodon",
            credentials={"access_token": SecretStr(token)},
            base_url=self.emulator.base_url,
        )
        return Mastodon(account)

    def posts(self) -> list[dict[str, Any]]:
        return [{"id": s["id"], "text": s["text"]} for s in self.emulator.published()]

    def rate_limit_fault(self, retry_after: int) -> dict[str, Any]:
        reset = datetime.now(UTC) + timedelta(seconds=retry_after)
        return {
            "status": 429,
            "body": {"error": "Too many requests"},
            "headers": {
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset.isoformat(timespec="microseconds"),
            },
        }

    def close(self) -> None:
        self.emulator.stop()


def make_harness() -> Harness:
    return MastodonHarness()
