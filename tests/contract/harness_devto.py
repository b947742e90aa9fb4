"""The contract suite against the Forem (dev.to) emulator.

Each essay gets its own canonical URL (its slug on the author's blog): Forem keeps
`canonical_url` unique site-wide, so the suite's one shared link would be refused from the
second article on, exactly as dev.to would refuse it.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from connectors.base import Account, RenderContext
from connectors.devto import DevTo
from pipeline.document import Essay
from tests.contract.harness import Harness
from tests.emulators.devto import DevToEmulator

API_KEY = "contract-devto-key-0123456789"


class DevToHarness(Harness):
    platform = "devto"
    create_path = r"^/api/articles$"

    def __init__(self) -> None:
        self.emulator = DevToEmulator()
        self.emulator.add_user(API_KEY, "contract")
        self.emulator.start()

    @property
    def server(self) -> DevToEmulator:
        return self.emulator

    def connector(self, *, valid_credentials: bool = True) -> DevTo:
        key = API_KEY if valid_credentials else "revoked-devto-key-9876543210"
        account = Account(
            name="devto-contract",
            platform="devto",
            credentials={"api_key": SecretStr(key)},
            base_url=self.emulator.base_url,
        )
        return DevTo(account)

    def context(self, essay: Essay) -> RenderContext:
        return RenderContext(
            target=self.platform, link=f"https://blog.example.org/{essay.effective_slug()}"
        )

    def posts(self) -> list[dict[str, Any]]:
        return [{"id": str(a["id"]), "text": a["title"]} for a in self.emulator.published()]

    def rate_limit_fault(self, retry_after: int) -> dict[str, Any]:
        # The app limiter's answer (Rack::Attack's own 429 always says Retry-After: 1).
        return {
            "status": 429,
            "body": {
                "error": f"Rate limit reached, try again in {retry_after} seconds",
                "status": 429,
            },
            "headers": {"Retry-After": str(retry_after)},
        }

    def close(self) -> None:
        self.emulator.stop()


def make_harness() -> Harness:
    return DevToHarness()
