"""The contract suite against the LinkedIn emulator."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from connectors.base import Account
from connectors.linkedin import LinkedIn
from tests.contract.harness import Harness
from tests.emulators.linkedin import LinkedInEmulator

TOKEN = "contract-linkedin-token-0123456789"


class LinkedInHarness(Harness):
    platform = "linkedin"
    create_path = r"^/rest/posts$"

    def __init__(self) -> None:
        self.emulator = LinkedInEmulator()
        self.emulator.add_member(TOKEN, "Contract Writer", "contractSub1")
        self.emulator.start()

    @property
    def server(self) -> LinkedInEmulator:
        return self.emulator

    def connector(self, *, valid_credentials: bool = True) -> LinkedIn:
        token = TOKEN if valid_credentials else "revoked-linkedin-token-9876543210"
        account = Account(
            name="linkedin-contract",
            platform="linkedin",
            credentials={"access_token": SecretStr(token)},
            base_url=self.emulator.base_url,
        )
        return LinkedIn(account)

    def posts(self) -> list[dict[str, Any]]:
        return [{"id": p["id"], "text": p["text"]} for p in self.emulator.published()]

    def rate_limit_fault(self, retry_after: int) -> dict[str, Any]:
        # LinkedIn's own 429 carries no wait (its quotas reset at 00:00 UTC); the suite needs
        # a short one, so this answer adds Retry-After, which the connector prefers when sent.
        return {
            "status": 429,
            "body": {
                "status": 429,
                "serviceErrorCode": 101,
                "code": "TOO_MANY_REQUESTS",
                "message": "Resource level throttle MEMBER DAY limit for calls to this resource "
                "is reached.",
            },
            "headers": {"Retry-After": str(retry_after)},
        }

    def close(self) -> None:
        self.emulator.stop()


def make_harness() -> Harness:
    return LinkedInHarness()
