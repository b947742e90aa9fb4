"""`crosspost preview`: exactly what each destination would receive, and its length.

It calls the same `render` the publisher calls, so a preview cannot differ from what is
sent. With no settings it renders for one account of every supported platform.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connectors import REGISTRY, connector_class
from connectors.base import PublishError, RenderContext
from pipeline.document import summarize
from pipeline.planner import target_kind, target_options
from pipeline.readers import read_file
from pipeline.settings import CONFIG_NAME, Settings, TargetSettings, load_settings
from pipeline.timezones import with_author_times


def preview_settings(home: Path) -> Settings:
    """The home's settings, or one default account per platform when none are configured."""
    if (home / CONFIG_NAME).exists():
        settings = load_settings(home)
        if settings.targets:
            return settings
    return Settings(
        targets={
            name: TargetSettings(platform=name, options=connector_class(name).example_options)
            for name in REGISTRY
        }
    )


def preview(
    path: Path, home: Path, only: list[str] | None = None, link: str | None = None
) -> dict[str, Any]:
    settings = preview_settings(home)
    essay = with_author_times(read_file(path), settings.zone)
    names = only or list(settings.targets)
    unknown = [n for n in names if n not in settings.targets]
    if unknown:
        raise KeyError(
            f"no target named {', '.join(unknown)}; known: {', '.join(settings.targets)}"
        )
    targets: dict[str, Any] = {}
    for name in names:
        target = settings.targets[name]
        cls = connector_class(target.platform)
        ctx = RenderContext(
            target=name,
            options=target_options(settings, essay, name),
            link=link or essay.canonical_url,
        )
        entry: dict[str, Any] = {"platform": target.platform, "kind": target_kind(target).value}
        try:
            draft = cls.render(essay, ctx)
        except PublishError as exc:  # the essay cannot go there as it is: say why, go on
            entry.update(posts=[], error=str(exc))
        else:
            entry["posts"] = [
                {"length": p.length, "limit": p.limit, "request": p.request} for p in draft.posts
            ]
        targets[name] = entry
    return {"document": summarize(essay), "targets": targets}


def preview_table(result: dict[str, Any]) -> str:
    doc = result["document"]
    lines = [
        f"{doc['title']}",
        f"  by {doc['author'] or '?'} · {doc['published'] or 'no date'}"
        f" · {len(doc['blocks'])} blocks · tags: {', '.join(doc['tags']) or '-'}",
        "",
    ]
    for name, target in result["targets"].items():
        lines.append(
            f"== {name} ({target['platform']}, {target['kind']}) {len(target['posts'])} post(s)"
        )
        if target.get("error"):
            lines.append(f"  cannot be sent: {target['error']}")
        for index, post in enumerate(target["posts"], 1):
            fits = ""
            if post["limit"] is not None and post["length"] is not None:
                fits = " ok" if post["length"] <= post["limit"] else " TOO LONG"
                fits = f"  [{post['length']}/{post['limit']}{fits}]"
            body = json.dumps(post["request"], ensure_ascii=False)
            if len(body) > 400:
                body = body[:400] + f"… ({len(body)} chars)"
            lines.append(f"  #{index}{fits} {body}")
        lines.append("")
    return "\n".join(lines)
