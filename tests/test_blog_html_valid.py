"""Every blog body in the preview goldens is valid HTML, as the W3C Nu checker reads it.

The goldens (tests/golden/preview) hold exactly what each blog platform receives; they are
read at test time, so a regenerated golden is checked as it is now. Each body is a
fragment, checked inside a minimal document: an error in it is an error in the post.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.validators import fragment_errors

PREVIEWS = Path(__file__).parent / "golden" / "preview"


def html_bodies(target: dict[str, Any]) -> list[str]:
    """The HTML a blog platform receives, from one target of a preview golden."""
    platform = target["platform"]
    bodies: list[str] = []
    for post in target.get("posts", []):
        request = post["request"]
        html_content = platform == "medium" and request.get("contentFormat") == "html"
        if platform in {"wordpress", "patreon"} or html_content:
            bodies.append(request["content"])
        elif platform == "ghost":
            bodies.extend(p["html"] for p in request["posts"])
        elif platform == "static_site":
            bodies.append(request["html"])
    return bodies


def test_every_blog_body_in_the_preview_goldens_is_valid_html() -> None:
    fragments: dict[str, str] = {}
    for golden in sorted(PREVIEWS.glob("*.json")):
        preview = json.loads(golden.read_text(encoding="utf-8"))
        for name, target in preview["targets"].items():
            for index, body in enumerate(html_bodies(target)):
                fragments[f"{golden.stem}--{name}-{index}"] = body
    platforms = {key.rsplit("--", 1)[1].rsplit("-", 1)[0] for key in fragments}
    assert {"wordpress", "ghost", "patreon", "medium", "static_site"} <= platforms
    problems = fragment_errors(fragments)
    assert not problems, "\n".join(map(str, problems))
