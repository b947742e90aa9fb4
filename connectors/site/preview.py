"""`crosspost preview FILE --target site --write`: the essay's page as the site would show
it, written into a fresh temporary folder (never into the real site) for the author to open.

The page is made by the same render and the same writer the publisher uses; its copies
elsewhere are not known before publishing, so it lists none.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from connectors import connector_class
from connectors.base import Account, MemoryJournal, RenderContext
from pipeline.errors import ConfigError
from pipeline.preview import preview_settings
from pipeline.publishing.planner import target_options
from pipeline.readers import read_file


def write_site_preview(path: Path, home: Path, targets: list[str] | None) -> list[Path]:
    """Write the page for each named site target (default: every one); return their paths."""
    essay = read_file(path)
    settings = preview_settings(home)
    names = [
        name
        for name in (targets or list(settings.targets))
        if name in settings.targets
        and getattr(connector_class(settings.targets[name].platform), "shows_syndication", False)
    ]
    if not names:
        known = ", ".join(settings.targets)
        raise ConfigError(f"none of the targets named is a static site; known targets: {known}")
    written: list[Path] = []
    for name in names:
        folder = Path(tempfile.mkdtemp(prefix=f"crosspost-preview-{name}-"))
        target = settings.targets[name]
        cls = connector_class(target.platform)
        options = target_options(settings, essay, name)
        draft = cls.render(essay, RenderContext(target=name, options=options))
        site = cls(Account(name=name, platform=target.platform, options=options, home=str(folder)))
        remote = site.publish(draft, cls.new_key(), MemoryJournal())
        written.append(folder / "site" / f"{remote.id}.html")
    return written
