"""Every renderer against its golden file, for every essay in tests/golden/render/.

The expected files were written with UPDATE_GOLDEN=1 and then read line by line: they are
what a reader of each platform should get, so a diff here is a change of behaviour.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.document import Block, Essay
from pipeline.render.html import render_html
from pipeline.render.linkedin_text import render_little
from pipeline.render.markdown import render_markdown
from pipeline.render.parts import blocks_for
from pipeline.render.plain import render_plain
from pipeline.render.prosemirror import render_prosemirror
from pipeline.render.telegram import render_telegram_html
from tests.golden_helpers import check_golden

GOLDEN = Path(__file__).parent / "golden" / "render"
ESSAYS = sorted(p.name.removesuffix(".essay.json") for p in GOLDEN.glob("*.essay.json"))


def _prosemirror(blocks: list[Block]) -> str:
    return json.dumps(render_prosemirror(blocks), ensure_ascii=False, indent=1)


RENDERERS: dict[str, Callable[[list[Block]], str]] = {
    "html": render_html,
    "md": render_markdown,
    "prosemirror.json": _prosemirror,
    "telegram.html": render_telegram_html,
    "little.txt": render_little,
    "txt": render_plain,
}


def load_essay(name: str) -> Essay:
    return Essay.model_validate_json((GOLDEN / f"{name}.essay.json").read_text(encoding="utf-8"))


def test_golden_essays_cover_the_hard_cases() -> None:
    assert len(ESSAYS) >= 4


@pytest.mark.parametrize("suffix", sorted(RENDERERS))
@pytest.mark.parametrize("name", ESSAYS)
def test_blog_rendering_matches_golden_file(name: str, suffix: str) -> None:
    blocks = blocks_for(load_essay(name), "blog")
    check_golden(RENDERERS[suffix](blocks), GOLDEN / f"{name}.{suffix}")
