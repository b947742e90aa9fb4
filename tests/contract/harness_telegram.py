"""The contract suite against the Telegram Bot API emulator.

Telegram cannot look a message up (see connectors/telegram.py), so the cases that need
`find` to recognise an earlier post fail here by design: the emulator does not pretend
the platform can do what it cannot.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from connectors.base import Account, RenderContext
from connectors.telegram import Telegram
from pipeline.document import Essay
from tests.contract.harness import Harness
from tests.emulators.telegram import TelegramEmulator

TOKEN = "987654:contract-telegram-token-abcdef"
CHANNEL = "@crosspost_contract"


class TelegramHarness(Harness):
    platform = "telegram"
    create_path = r"/sendMessage$"

    def __init__(self) -> None:
        # Generous per-chat limits: the suite posts many messages within a second.
        self.emulator = TelegramEmulator(TOKEN, chat_limit=1000, chat_window=1.0, global_limit=1000)
        self.emulator.add_channel(CHANNEL[1:])
        self.emulator.start()

    @property
    def server(self) -> TelegramEmulator:
        return self.emulator

    def connector(self, *, valid_credentials: bool = True) -> Telegram:
        token = TOKEN if valid_credentials else "987654:revoked-telegram-token-zyxwvu"
        account = Account(
            name="telegram-contract",
            platform="telegram",
            options={"chat_id": CHANNEL},
            credentials={"bot_token": SecretStr(token)},
            base_url=self.emulator.base_url,
        )
        return Telegram(account)

    def context(self, essay: Essay) -> RenderContext:
        return RenderContext(
            target=self.platform,
            options={"chat_id": CHANNEL},
            link="https://blog.example.org/contract-essay",
        )

    def posts(self) -> list[dict[str, Any]]:
        return [{"id": str(m["message_id"]), "text": m["text"]} for m in self.emulator.messages()]

    def rate_limit_fault(self, retry_after: int) -> dict[str, Any]:
        return {
            "status": 429,
            "body": {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            },
        }

    def close(self) -> None:
        self.emulator.stop()


def make_harness() -> Harness:
    return TelegramHarness()
