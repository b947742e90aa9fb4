"""The contract suite against the Patreon emulator, in session mode.

Hand-off mode (the default) never creates a platform post by design, so the suite's
"a post appears" cases do not apply to it; `tests/test_patreon_handoff.py` proves it instead.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from connectors.base import Account
from connectors.patreon import Patreon
from tests.contract.harness import Harness
from tests.emulators.patreon import PatreonEmulator

SESSION = "contract-patreon-session-0123456789"


class PatreonHarness(Harness):
    platform = "patreon"
    create_path = r"^/api/posts$"

    def __init__(self) -> None:
        self.emulator = PatreonEmulator()
        self.emulator.add_creator(SESSION, "Contract Creator", tiers={"Gold": 500})
        self.emulator.start()

    @property
    def server(self) -> PatreonEmulator:
        return self.emulator

    def connector(self, *, valid_credentials: bool = True) -> Patreon:
        session = SESSION if valid_credentials else "expired-patreon-session-9876543210"
        account = Account(
            name="patreon-contract",
            platform="patreon",
            options={"mode": "session"},
            credentials={"session_cookie": SecretStr(f"session_id={session}; locale=en-US")},
            base_url=self.emulator.base_url,
        )
        return Patreon(account)

    def posts(self) -> list[dict[str, Any]]:
        """Every post with content, drafts included: a stray titled draft counts too."""
        return [
            {"id": p["id"], "text": f"{p['title'] or ''}\n{p['content'] or ''}"}
            for p in self.emulator.posts.values()
            if p["title"] or p["content"]
        ]

    def rate_limit_fault(self, retry_after: int) -> dict[str, Any]:
        return {
            "status": 429,
            "body": {
                "errors": [
                    {
                        "code": 1,
                        "code_name": "RequestThrottled",
                        "detail": "You have made too many attempts. Please try again later.",
                        "retry_after_seconds": retry_after,
                        "status": "429",
                        "title": "Request was throttled",
                    }
                ]
            },
        }

    def close(self) -> None:
        self.emulator.stop()


def make_harness() -> Harness:
    return PatreonHarness()
