"""The platform registry: one line per platform, the module loaded only when used.

Adding a platform is one line here (see docs/ARCHITECTURE.md, "How to add a platform").
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the registry itself stays cheap to import: settings validate against it
    from connectors.base import Connector

REGISTRY: dict[str, str] = {
    # local targets: the embedded default, no account needed
    "static_site": "connectors.static_site:StaticSite",
    "outbox": "connectors.outbox:Outbox",
    # blogs
    "wordpress": "connectors.wordpress:WordPress",
    "ghost": "connectors.ghost:Ghost",
    "devto": "connectors.devto:DevTo",
    "medium": "connectors.medium:Medium",
    # patronage
    "patreon": "connectors.patreon:Patreon",
    "substack": "connectors.substack:Substack",
    # social
    "mastodon": "connectors.mastodon:Mastodon",
    "bluesky": "connectors.bluesky:Bluesky",
    "x": "connectors.x:X",
    "linkedin": "connectors.linkedin:LinkedIn",
    "threads": "connectors.threads:Threads",
    "telegram": "connectors.telegram:Telegram",
}


def connector_class(platform: str) -> type[Connector]:
    """The connector class for a platform name, or KeyError naming the known ones."""
    try:
        module_name, _, class_name = REGISTRY[platform].partition(":")
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown platform {platform!r}; known platforms: {known}") from None
    return getattr(importlib.import_module(module_name), class_name)


def platforms() -> list[str]:
    return list(REGISTRY)
