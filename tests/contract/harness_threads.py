"""The contract suite against the Threads emulator.

The create call is `threads_publish`, the step that makes a post visible: a lost answer
there is the case that could double a post (a lost container answer cannot).
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from connectors.base import Account
from connectors.threads import Threads
from tests.contract.harness import Harness
from tests.emulators.threads import ThreadsEmulator

TOKEN = "contract-threads-token-0123456789"


class ThreadsHarness(Harness):
    platform = "threads"
    create_path = r"^/v1\.0/\d+/threads_publish$"

    def __init__(self) -> None:
        self.emulator = ThreadsEmulator()
        self.emulator.add_user(TOKEN, "contract")
        self.emulator.start()

    @property
    def server(self) -> ThreadsEmulator:
        return self.emulator

    def connector(self, *, valid_credentials: bool = True) -> Threads:
        token = TOKEN if valid_credentials else "revoked-threads-token-9876543210"
        account = Account(
            name="threads-contract",
            platform="threads",
            credentials={"access_token": SecretStr(token)},
            base_url=self.emulator.base_url,
        )
        return Threads(account)

    def posts(self) -> list[dict[str, Any]]:
        return [{"id": m["id"], "text": m["text"]} for m in self.emulator.published()]

    def rate_limit_fault(self, retry_after: int) -> dict[str, Any]:
        # Meta's rate-limit error (code 4) states no wait in seconds; the suite needs a short
        # one, so this answer adds Retry-After, which the connector prefers when sent.
        return {
            "status": 400,
            "body": {
                "error": {
                    "message": "Application request limit reached",
                    "type": "OAuthException",
                    "code": 4,
                    "fbtrace_id": "AcontractTrace",
                }
            },
            "headers": {"Retry-After": str(retry_after)},
        }

    def close(self) -> None:
        self.emulator.stop()


def make_harness() -> Harness:
    return ThreadsHarness()
