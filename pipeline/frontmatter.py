"""The front-matter schema: every key an essay may set, in one place.

The Markdown reader checks the essay's own keys (title, tags, …); the per-target part is
read here once settings are known, because only they say which names are targets. Both
forms the README shows work and mean the same:

    x: false                      targets:
    mastodon: { mode: thread }      x: false
                                    mastodon: { mode: thread }

A key that is neither an essay key nor a configured target is a warning (Hugo's `layout`
reads, but the author hears that crosspost ignores it), never silence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import PlanError


class TargetOverride(BaseModel):
    """One target's entry: `false` switches it off, `true` on; a mapping changes when it
    runs (the rule keys below) and, with any other key, the platform's options."""

    model_config = ConfigDict(extra="allow")

    after: str | None = Field(None, description="wait for this target's URL and link to it")
    relative_to: str | None = Field(None, description="due at that target's time + offset")
    offset: str | None = Field(None, description="a duration: 90s, 30m, 48h, 2d, 1w")
    slots: list[str] | None = Field(None, description='times of day, e.g. ["09:00"]')
    max_per_day: int | None = Field(None, description="at most this many a day in the slots")
    early_access_hours: float | None = Field(
        None, description="on a patronage target: every blog follows N hours later"
    )


class FrontMatter(BaseModel):
    """The essay's own keys (checked by the Markdown reader, which gives each its message)."""

    model_config = ConfigDict(extra="allow")

    title: str | None = Field(None, description="the title; default: the first heading")
    subtitle: str | None = Field(None, description="a line under the title; teaser fallback")
    author: str | None = Field(None, description="the author's name")
    date: str | None = Field(None, description="publication date, 2025-01-31 (or `published`)")
    published: str | None = Field(None, description="same as `date`")
    publish_at: str | None = Field(
        None, description="not before this time, 2025-06-02T08:00 (author's zone if naive)"
    )
    tags: list[str] | str | None = Field(None, description="[writing, indieweb] or 'a, b'")
    canonical_url: str | None = Field(
        None, description="the essay's home on the web; social posts link it when no `after`"
    )
    language: str | None = Field(None, description="en, pt-BR (or `lang`)")
    lang: str | None = Field(None, description="same as `language`")
    slug: str | None = Field(None, description="the URL name; default: from the title")
    targets: dict[str, Any] | list[str] | None = Field(
        None,
        description="per target: false / true / {options}; a list names the only targets",
    )


ESSAY_KEYS = frozenset(FrontMatter.model_fields)
RULE_KEYS = frozenset(TargetOverride.model_fields) - {"early_access_hours"}


def top_level_extras(meta: Mapping[str, Any]) -> dict[str, Any]:
    """Front-matter keys that are not essay keys: target switches or unknown keys."""
    return {str(k): v for k, v in meta.items() if str(k) not in ESSAY_KEYS}


def merged_overrides(
    targets: Mapping[str, Any] | None,
    extras: Mapping[str, Any] | None,
    configured: Mapping[str, Any],
    warnings: list[str],
) -> dict[str, Any]:
    """`targets:` plus top-level keys that name configured targets, as one mapping.

    A top-level key naming no target is a warning; the same target in both places is an
    error (which one did the author mean?).
    """
    merged: dict[str, Any] = dict(targets or {})
    for key, value in (extras or {}).items():
        if key not in configured:
            warnings.append(
                f"front matter key {key!r} is neither an essay key nor a configured target: "
                f"ignored (essay keys: {', '.join(sorted(ESSAY_KEYS))}; "
                f"targets: {', '.join(configured) or 'none'})"
            )
            continue
        if key in merged:
            raise PlanError(
                f"front matter sets target {key!r} twice, at the top and under `targets`: keep one"
            )
        if value is not None and not isinstance(value, bool | Mapping):
            raise PlanError(
                f"front matter `{key}` must be false, true or a mapping of options "
                f"(like {{ mode: thread }}), not {value!r}"
            )
        merged[key] = value if isinstance(value, bool) else dict(value or {})
    for name in list(merged):
        if name != "*" and name not in configured:
            warnings.append(
                f"front matter `targets.{name}` names no configured target: ignored "
                f"(targets: {', '.join(configured) or 'none'})"
            )
            merged.pop(name)
    return merged


def reference_rows() -> list[tuple[str, str]]:
    """(key, meaning) for the README's front-matter reference, from the models above."""
    rows = [(k, f.description or "") for k, f in FrontMatter.model_fields.items()]
    rows += [
        ("`<target>: false`", "switch that target off for this essay (also under `targets:`)"),
        ("`<target>: {options}`", "that platform's options for this essay, e.g. mode: thread"),
    ]
    rows += [
        (f"`<target>.{k}`", f.description or "") for k, f in TargetOverride.model_fields.items()
    ]
    return rows


def reference_table() -> str:
    """The README's front-matter table, Markdown; a test keeps the README in step."""
    lines = ["| key | meaning |", "| --- | --- |"]
    for key, meaning in reference_rows():
        shown = key if key.startswith("`") else f"`{key}`"
        lines.append(f"| {shown} | {meaning} |")
    return "\n".join(lines)
