"""`crosspost preview`: exactly what each destination would receive, and its length.

It calls the same `render` the publisher calls, with the same options and the same link
(`pipeline/links.py`), so a preview cannot differ from what is sent; where the link is
known only after publishing, a placeholder of fixed length stands in for it and is
counted. With no settings it renders for one account of every supported platform.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors import REGISTRY, connector_class
from connectors.base import Kind, PublishError, RenderContext
from pipeline.document import Essay, summarize
from pipeline.errors import CrosspostError
from pipeline.links import announced_link
from pipeline.publishing.planner import plan, target_kind, target_options
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


# Destinations whose body is Markdown or an editor document: an image there must have a web
# address, so a picture carried inside the essay (a Word document's) cannot go with it.
NO_EMBEDDED_PICTURES = frozenset({"devto", "medium", "substack"})


def picture_notes(essay: Essay, platform: str) -> list[str]:
    """What a preview says about pictures `platform` cannot show as the essay carries them."""
    notes: list[str] = []
    carried = [i for i in essay.images() if i.src.startswith("data:")]
    if carried and platform in NO_EMBEDDED_PICTURES:
        notes.append(
            f"{len(carried)} picture(s) embedded in the document have no web address and "
            f"cannot be shown on {platform}; put them online and link them in the document "
            "to keep them"
        )
    beside = [i.src for i in essay.images() if "://" not in i.src and ":" not in i.src[:12]]
    if beside:
        notes.append(
            f"{len(beside)} picture(s) have a relative address ({beside[0]}) that only works "
            "beside the original file and will not show once published; give them full web "
            "addresses (a Google Doc: read its zipped download, which carries its pictures)"
        )
    return notes


def preview(
    path: Path, home: Path, only: list[str] | None = None, link: str | None = None
) -> dict[str, Any]:
    """What each target would receive for the essay at `path`, as the publisher renders it:
    the same options (front matter on top), the same link (`pipeline/links.py`)."""
    settings = preview_settings(home)
    return preview_essay(read_file(path), settings, home, only, link)


def preview_essay(
    essay: Essay,
    settings: Settings,
    home: Path,
    only: list[str] | None = None,
    link: str | None = None,
    texts: bool = False,
) -> dict[str, Any]:
    """`preview` for an essay already read (the console shows stored essays this way);
    `texts` adds each post's counted text, which the console draws as a card."""
    essay = with_author_times(essay, settings.zone)
    names = only or list(settings.targets)
    unknown = [n for n in names if n not in settings.targets]
    if unknown:
        raise CrosspostError(
            f"no target named {', '.join(unknown)}; the targets are: {', '.join(settings.targets)}"
        )
    planned = plan(essay, settings, datetime.now(UTC))
    waits_for = {p.target: p.depends_on for p in planned.publications}
    targets: dict[str, Any] = {}
    for name in names:
        target = settings.targets[name]
        cls = connector_class(target.platform)
        entry: dict[str, Any] = {"platform": target.platform, "kind": target_kind(target).value}
        if name not in waits_for:  # shown all the same: the author may be checking why
            entry["off"] = "off for this essay: nothing is sent there (see `crosspost plan`)"
        depends_on = waits_for.get(name, target.after)
        announced = announced_link(settings, essay, name, home, depends_on)
        shown = link or announced.url or announced.slot
        ctx = RenderContext(
            target=name,
            options=target_options(settings, essay, name),
            link=shown,
            link_slot=None if link else announced.slot,
        )
        if shown and entry["kind"] == Kind.SOCIAL.value:
            entry["link"] = {
                "url": shown,
                "placeholder": bool(announced.slot) and not link,
                "from": "--link" if link else announced.source,
            }
        notes = picture_notes(essay, target.platform)
        if notes:
            entry["notes"] = notes
        try:
            draft = cls.render(essay, ctx)
        except PublishError as exc:  # the essay cannot go there as it is: say why, go on
            entry.update(posts=[], error=str(exc))
        else:
            entry["posts"] = [
                {"length": p.length, "limit": p.limit, "request": p.request}
                | ({"text": p.text} if texts else {})
                for p in draft.posts
            ]
            cost = cls.cost_estimate(draft, ctx.options)
            if cost is not None:
                entry["cost_usd"] = cost
        targets[name] = entry
    return {"document": summarize(essay), "targets": targets, "warnings": planned.warnings}


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
        if target.get("off"):
            lines.append(f"  {target['off']}")
        if target.get("error"):
            lines.append(f"  cannot be sent: {target['error']}")
        if "cost_usd" in target:
            lines.append(
                f"  estimated cost: ${target['cost_usd']:.3f} (the platform charges per post)"
            )
        if target.get("link"):
            shown = target["link"]
            lines.append(
                f"  link: {shown['url']}"
                + (
                    f" (placeholder, {len(shown['url'])} characters, counted: the real URL "
                    f"replaces it once {shown['from'].removeprefix('after ')} is published)"
                    if shown["placeholder"]
                    else f" ({shown['from']})"
                )
            )
        lines.extend(f"  note: {note}" for note in target.get("notes", []))
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
