"""The contract suite against the Medium (legacy API) emulator.

Medium's API cannot read posts back (see connectors/medium.py), so the connector declares
`Dedupe.NONE` and the suite expects `NeedsPerson` where other platforms look a post up.
The emulator offers no list endpoint either: it does not pretend Medium can do what it cannot.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from connectors.base import Account
from connectors.medium import Medium
from tests.contract.harness import Harness
from tests.emulators.medium import MediumEmulator

TOKEN = "2b0c0ffee0contract0medium0token"


class MediumHarness(Harness):
    platform = "medium"
    create_path = r"^/v1/users/[^/]+/posts$"

    def __init__(self) -> None:
        self.emulator = MediumEmulator()
        self.emulator.add_user(TOKEN, "contract")
        self.emulator.start()

    @property
    def server(self) -> MediumEmulator:
        return self.emulator

    def connector(self, *, valid_credentials: bool = True) -> Medium:
        token = TOKEN if valid_credentials else "2b0c0ffee0revoked0medium0token"
        account = Account(
            name="medium-contract",
            platform="medium",
            credentials={"integration_token": SecretStr(token)},
            base_url=self.emulator.base_url,
        )
        return Medium(account)

    def posts(self) -> list[dict[str, Any]]:
        return [{"id": p["id"], "text": p["title"]} for p in self.emulator.published()]

    def rate_limit_fault(self, retry_after: int) -> dict[str, Any]:
        # Medium documents no limiter; a 429 is assumed to use the API's error shape.
        return {
            "status": 429,
            "body": {"errors": [{"message": "Too many requests", "code": 429}]},
            "headers": {"Retry-After": str(retry_after)},
        }

    def close(self) -> None:
        self.emulator.stop()


def make_harness() -> Harness:
    return MediumHarness()
