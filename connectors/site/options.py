"""The static site's options, declared once: `[targets.site] options = {...}` in settings.

Checked when the settings load (a bad colour stops the program at start, naming the key),
and read again by the connector, which ignores keys meant for other code (`now`, the
syndication links the engine passes to `render`).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


class SiteOptions(BaseModel):
    """What a writer sets for their site; every field has a default that works."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field("Essays", min_length=1, description="the site's name, in every header")
    author: str | None = Field(None, description="the writer, for feeds and essays without one")
    author_url: str | None = Field(None, description="the writer's home page (h-card)")
    base_url: str | None = Field(
        None, description="public address, e.g. https://blog.example.org; else file:// URLs"
    )
    description: str = Field("", description="one line about the site (feeds, index, cards)")
    language: str = Field("en", description="the site's language tag, e.g. en, de, pt-BR")
    accent: str = Field("#9a3412", description="links and marks in the light theme (#rrggbb)")
    accent_dark: str = Field("#fdba74", description="links and marks in the dark theme (#rrggbb)")
    per_page: int = Field(10, ge=1, le=100, description="essays per index page")
    feed_entries: int = Field(50, ge=1, le=1000, description="newest essays in each feed")
    image_max_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="largest image fetched into the site"
    )

    @field_validator("accent", "accent_dark")
    @classmethod
    def colour(cls, value: str) -> str:
        if not _COLOUR.fullmatch(value):
            raise ValueError(f"{value!r} is not a colour; write it as #rrggbb, e.g. #9a3412")
        return value

    @field_validator("language")
    @classmethod
    def language_tag(cls, value: str) -> str:
        if not _LANGUAGE.fullmatch(value):
            raise ValueError(f"{value!r} is not a language tag; use e.g. en, de or pt-BR")
        return value

    @field_validator("base_url", "author_url")
    @classmethod
    def http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL; write it as https://host")
        return value.rstrip("/") if value else value

    @classmethod
    def read(cls, options: dict[str, Any]) -> SiteOptions:
        """The site's options from a target's options, ignoring keys that are not ours."""
        return cls(**{k: v for k, v in options.items() if k in cls.model_fields})
