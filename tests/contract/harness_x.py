"""The contract suite against the X emulator, signing with OAuth 1.0a."""

from __future__ import annotations

import time
from typing import Any

from pydantic import SecretStr

from connectors.base import Account
from connectors.x import X
from tests.contract.harness import Harness
from tests.emulators.x import TOO_MANY, XEmulator

CREDENTIALS = {
    "consumer_key": "contract-x-consumer-key",
    "consumer_secret": "contract-x-consumer-secret-0123456789",
    "access_token": "1234-contract-x-access-token",
    "access_token_secret": "contract-x-access-token-secret-9876",
}


class XHarness(Harness):
    platform = "x"
    create_path = r"^/2/tweets$"

    def __init__(self) -> None:
        self.emulator = XEmulator()
        user = self.emulator.add_user("contract")
        self.emulator.add_oauth1(
            CREDENTIALS["consumer_key"],
            CREDENTIALS["consumer_secret"],
            CREDENTIALS["access_token"],
            CREDENTIALS["access_token_secret"],
            user,
        )
        self.emulator.start()

    @property
    def server(self) -> XEmulator:
        return self.emulator

    def connector(self, *, valid_credentials: bool = True) -> X:
        credentials = dict(CREDENTIALS)
        if not valid_credentials:
            credentials["access_token_secret"] = "revoked-x-access-token-secret-000"
        account = Account(
            name="x-contract",
            platform="x",
            credentials={k: SecretStr(v) for k, v in credentials.items()},
            base_url=self.emulator.base_url,
        )
        return X(account)

    def posts(self) -> list[dict[str, Any]]:
        # X's stored text has t.co links; the source text is what the markers are checked in.
        return [{"id": t["id"], "text": t["source_text"]} for t in self.emulator.published()]

    def rate_limit_fault(self, retry_after: int) -> dict[str, Any]:
        return {
            "status": 429,
            "body": TOO_MANY,
            "headers": {
                "x-rate-limit-limit": "100",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(time.time()) + retry_after),
            },
        }

    def close(self) -> None:
        self.emulator.stop()


def make_harness() -> Harness:
    return XHarness()
