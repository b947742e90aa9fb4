"""What `crosspost preview` shows is what the platform receives, byte for byte.

For every corpus essay and every social platform (Bluesky on the real PDS, the others on
their emulators), in announcement and thread mode: the text of each post in the preview
equals the text field of a create request the server received. A thread of the seed essay
also keeps every word of its body, in order, across the received posts.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from connectors.base import Kind, MemoryJournal, RenderContext
from pipeline.document import block_text
from pipeline.preview import preview
from pipeline.readers import read_file
from tests.contract.harness import Harness

GOLDEN = Path(__file__).parent / "golden"
CORPUS = [
    GOLDEN / "readers" / "medium-copy-north-korean-troops.txt",
    GOLDEN / "readers" / "markdown-front-matter.md",
    GOLDEN / "html" / "medium-export-night-trains.html",
]
SEED = CORPUS[0]
LINK = "https://blog.example.org/2025/essay"

# where each platform's create call carries the post text
TEXT_OF: dict[str, Callable[[dict[str, Any]], str]] = {
    "mastodon": lambda request: request["status"],
    "bluesky": lambda request: request["record"]["text"],
    "x": lambda request: request["text"],
    "linkedin": lambda request: request["commentary"],
    "threads": lambda request: request["text"],
    "telegram": lambda request: request["text"],
}


@pytest.fixture(scope="module", params=sorted(TEXT_OF))
def social(request: pytest.FixtureRequest) -> Iterator[Harness]:
    module = importlib.import_module(f"tests.contract.harness_{request.param}")
    harness: Harness = module.make_harness()
    try:
        yield harness
    finally:
        harness.close()


def received_strings(harness: Harness) -> list[str]:
    """Every string value the server received in a request body or query."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for req in harness.server.requests_seen:
        walk(req.query)
        if not req.body:
            continue
        try:
            walk(json.loads(req.body))
        except (ValueError, UnicodeDecodeError):
            walk(parse_qs(req.body.decode("utf-8", errors="replace"), keep_blank_values=True))
    return found


def publish_like_preview(harness: Harness, path: Path, mode: str, home: Path) -> list[str]:
    """Preview the essay for this account, publish it, and return the previewed texts."""
    connector = harness.connector()
    options = {**connector.account.options, "mode": mode}
    config = home / "crosspost.toml"
    inline = ", ".join(f"{k} = {json.dumps(v)}" for k, v in options.items())
    config.write_text(
        f'[targets.{harness.platform}]\nplatform = "{harness.platform}"\n'
        f"options = {{ {inline} }}\n",
        encoding="utf-8",
    )
    shown = preview(path, home, [harness.platform], LINK)["targets"][harness.platform]
    assert shown["kind"] == Kind.SOCIAL.value, shown
    texts = [TEXT_OF[harness.platform](post["request"]) for post in shown["posts"]]
    assert texts, shown

    essay = read_file(path)
    front_matter = (essay.targets or {}).get(harness.platform)
    if isinstance(front_matter, dict):  # the essay's own options win, as in the engine
        options = {**options, **front_matter}
    ctx = RenderContext(target=harness.platform, options=options, link=LINK)
    draft = type(connector).render(essay, ctx)
    connector.publish(draft, type(connector).new_key(), MemoryJournal())
    return texts


@pytest.mark.parametrize("mode", ["announcement", "thread"])
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_published_text_equals_the_preview_byte_for_byte(
    social: Harness, path: Path, mode: str, tmp_path: Path
) -> None:
    texts = publish_like_preview(social, path, mode, tmp_path)
    received = received_strings(social)
    for text in texts:
        assert text in received, f"{social.platform}: previewed text never reached the server"


def test_thread_of_the_seed_essay_keeps_every_word_in_order(
    social: Harness, tmp_path: Path
) -> None:
    texts = publish_like_preview(social, SEED, "thread", tmp_path)
    received = received_strings(social)
    assert all(text in received for text in texts)
    if social.platform == "linkedin":
        return  # LinkedIn has no threads: one long post carries the opening (documented)
    words = " ".join(block_text(b) for b in read_file(SEED).blocks).split()
    joined = " ".join(texts).split()
    position = 0
    for word in joined:
        if position < len(words) and word == words[position]:
            position += 1
    assert position == len(words), f"lost from word {position}: {words[position : position + 5]}"
