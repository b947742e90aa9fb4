"""What the contract suite needs from each platform's test setup.

One `Harness` per platform lives in `tests/contract/harness_<platform>.py` and exposes
`make_harness() -> Harness`. The suite in `test_contract.py` runs every case against each.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any

from connectors.base import Connector, Draft, RenderContext
from pipeline.document import Essay, Paragraph, Run
from tests.emulators.base import Emulator


def sample_essay(title: str = "Contract Essay", marker: str = "") -> Essay:
    return Essay(
        title=f"{title} {marker}".strip(),
        tags=["writing", "open web"],
        canonical_url=None,
        blocks=[
            Paragraph(
                content=[
                    Run(text="A first paragraph that serves as the teaser. "),
                    Run(text="Bold words", marks=("strong",)),
                    Run(text=" and a "),
                    Run(text="link", href="https://example.org/a_(b)"),
                ]
            ),
            Paragraph(content=[Run(text=f"Second paragraph {marker}.")]),
        ],
    )


# names, not secrets: a Bluesky handle is in every post's URL, a WordPress login on its pages
PUBLIC_CREDENTIALS = {"identifier", "user"}


def toml_value(value: Any) -> str:
    """A TOML value for the simple shapes a target table holds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {type(value).__name__}")


def toml_table(name: str, table: dict[str, Any]) -> str:
    lines = [f"[{name}]", *(f"{key} = {toml_value(value)}" for key, value in table.items())]
    return "\n".join(lines) + "\n"


class Harness(ABC):
    """A platform's server (emulator or real behind a fault proxy) plus a connector for it."""

    platform: str
    create_path: str  # regex matching the path of the create call, for fault targeting

    @property
    @abstractmethod
    def server(self) -> Emulator:
        """Where faults are injected: the emulator itself, or the proxy before a real server."""

    @abstractmethod
    def connector(self, *, valid_credentials: bool = True) -> Connector: ...

    @abstractmethod
    def posts(self) -> list[dict[str, Any]]:
        """What the platform holds now, each with at least `id` and `text` (title for blogs)."""

    @abstractmethod
    def rate_limit_fault(self, retry_after: int) -> dict[str, Any]:
        """`inject("status", **this)`: the platform's own 429 answer, with its wait header."""

    def context(self, essay: Essay) -> RenderContext:
        return RenderContext(target=self.platform, link="https://blog.example.org/contract-essay")

    def draft(self, essay: Essay) -> Draft:
        connector = self.connector()
        return type(connector).render(essay, self.context(essay))

    def target_table(self, **options: Any) -> dict[str, Any]:
        """This account as a `[targets.NAME]` table of crosspost.toml, for whole-program runs."""
        account = self.connector().account
        table: dict[str, Any] = {"platform": account.platform}
        if account.base_url:
            table["base_url"] = account.base_url
        if account.credentials:
            table["credentials"] = {
                key: value.get_secret_value() for key, value in account.credentials.items()
            }
        merged = {**account.options, **options}
        if merged:
            table["options"] = merged
        return table

    def secrets(self) -> dict[str, str]:
        """The credential values the program must never print or write, named by platform."""
        account = self.connector().account
        return {
            f"{self.platform}.{key}": value.get_secret_value()
            for key, value in account.credentials.items()
            if key not in PUBLIC_CREDENTIALS
        }

    def close(self) -> None:  # noqa: B027 - optional hook
        """Stop servers the harness started."""
