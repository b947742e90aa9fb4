"""The Markdown reader: golden files for whole essays, focused tests for metadata and errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline.document import Code, Heading, Image, ListBlock, Paragraph, Quote, Rule, Run, plain
from pipeline.errors import ReadError
from pipeline.readers import markdown
from pipeline.readers.promo import split_promo
from tests.golden_helpers import check_golden

GOLDEN = Path(__file__).parent / "golden" / "readers"


def read(text: str, name: str = "essay.md") -> markdown.Essay:
    return markdown.read(Path(name), text.encode("utf-8"))


def read_error(text: str) -> str:
    with pytest.raises(ReadError) as info:
        read(text)
    return info.value.reason


@pytest.mark.parametrize("source", sorted(GOLDEN.glob("*.md")), ids=lambda p: p.name)
def test_markdown_golden(source: Path) -> None:
    essay = markdown.read(source, source.read_bytes())
    check_golden(essay.model_dump_json(indent=2), source.with_suffix(".essay.json"))


def test_corpus_front_matter_fills_metadata_and_last_paragraph_is_promo() -> None:
    source = GOLDEN / "markdown-front-matter.md"
    essay = markdown.read(source, source.read_bytes())
    assert essay.title == "Why Every Writer Needs a Home Base"
    assert essay.subtitle == "Own your archive, syndicate everywhere else"
    assert essay.tags == ["writing", "indieweb", "publishing"]
    assert essay.publish_at == datetime(2025, 6, 2, 8, tzinfo=timezone(timedelta(hours=2)))
    assert essay.targets == {
        "patreon": {"access": "patrons", "early_access_hours": 48},
        "x": {"mode": "thread"},
    }
    assert [plain(b.content) for b in essay.promo] == [
        "If this helped, early drafts and the templates I use live on Patreon."
    ]
    assert essay.promo[0].content[1].href == "https://www.patreon.com/homebasewriter"
    assert not any("Patreon" in plain(b.content) for b in essay.blocks if isinstance(b, Paragraph))


def test_naive_publish_at_stays_naive() -> None:
    essay = read("---\ntitle: T\npublish_at: 2025-06-02T08:00:00\n---\n\nBody.\n")
    assert essay.publish_at == datetime(2025, 6, 2, 8, 0)
    assert essay.publish_at.tzinfo is None


def test_quoted_publish_at_and_published_strings_are_parsed() -> None:
    essay = read(
        '---\ntitle: T\npublished: "2023-05-17"\npublish_at: "2025-06-02T08:00Z"\n---\nB\n'
    )
    assert essay.published == date(2023, 5, 17)
    assert essay.publish_at == datetime(2025, 6, 2, 8, tzinfo=UTC)


def test_tags_as_comma_string_are_split_trimmed_and_deduplicated() -> None:
    essay = read("---\ntitle: T\ntags: 'a, b ,, A, #c'\n---\n\nBody.\n")
    assert essay.tags == ["a", "b", "c"]


def test_targets_as_list_of_names_mean_only_those() -> None:
    essay = read("---\ntitle: T\ntargets: [ghost, bluesky]\n---\n\nBody.\n")
    assert essay.targets == {"ghost": {}, "bluesky": {}, "*": False}


def test_a_target_can_be_switched_off_in_front_matter() -> None:
    essay = read("---\ntitle: T\ntargets: { x: false, mastodon: { mode: thread } }\n---\n\nB.\n")
    assert essay.targets == {"x": False, "mastodon": {"mode": "thread"}}


def test_first_h1_becomes_title_and_leaves_the_body() -> None:
    essay = read("# The Title\n\nFirst paragraph.\n\n# Another H1\n")
    assert essay.title == "The Title"
    assert [plain(b.content) for b in essay.blocks] == ["First paragraph.", "Another H1"]


def test_front_matter_title_repeated_as_h1_appears_once() -> None:
    essay = read("---\ntitle: Same\n---\n# Same\n\nText.\n")
    assert essay.title == "Same"
    assert [b.type for b in essay.blocks] == ["paragraph"]


def test_without_title_or_heading_the_first_line_is_the_title() -> None:
    essay = read("Plain **first** line\nsecond line\n\nThird.\n")
    assert essay.title == "Plain first line"
    assert [plain(b.content) for b in essay.blocks] == ["second line", "Third."]


def test_nested_marks_combine_on_one_run() -> None:
    essay = read("# T\n\nSee [**this** *and `that`*](https://x.org/a).\n")
    assert essay.blocks[0].content == [
        Run(text="See "),
        Run(text="this", marks=("strong",), href="https://x.org/a"),
        Run(text=" ", href="https://x.org/a"),
        Run(text="and ", marks=("em",), href="https://x.org/a"),
        Run(text="that", marks=("em", "code"), href="https://x.org/a"),
        Run(text="."),
    ]


def test_soft_break_is_a_space_and_hard_break_a_newline() -> None:
    essay = read("# T\n\none\ntwo  \nthree\n")
    assert plain(essay.blocks[0].content) == "one two\nthree"


def test_image_alone_is_an_image_block_with_title_as_caption() -> None:
    essay = read('# T\n\n![Alt *text*](https://x.org/i.png "Caption")\n')
    assert essay.blocks == [Image(src="https://x.org/i.png", alt="Alt text", caption="Caption")]


def test_raw_html_and_scripts_never_reach_the_essay() -> None:
    essay = read("# T\n\n<script>alert(1)</script>\n\nok <i>x</i><script>evil()</script> y\n")
    text = essay.model_dump_json()
    assert "script" not in text and "alert" not in text and "evil" not in text
    assert plain(essay.blocks[0].content) == "ok x y"


def test_javascript_links_are_not_links() -> None:
    essay = read("# T\n\n[click](javascript:alert(1))\n")
    assert all(run.href is None for run in essay.blocks[0].content)


def test_block_kinds_are_recognised() -> None:
    essay = read("# T\n\n> q\n\n---\n\n```js\nx\n```\n\n3. a\n4. b\n\n### h\n")
    kinds = [type(b) for b in essay.blocks]
    assert kinds == [Quote, Rule, Code, ListBlock, Heading]
    assert essay.blocks[2].language == "js" and essay.blocks[2].text == "x"
    assert essay.blocks[3].ordered and essay.blocks[3].start == 3
    assert essay.blocks[4].level == 3


def test_trailing_paragraph_about_patreon_without_call_to_action_stays_in_body() -> None:
    essay = read("# T\n\nBody.\n\nPatreon raised fees ([source](https://patreon.com/news)).\n")
    assert essay.promo == []
    assert len(essay.blocks) == 2


def test_promo_is_only_taken_from_the_end() -> None:
    cta = "If this helped, join me on [Patreon](https://patreon.com/x)."
    essay = read(f"# T\n\n{cta}\n\nThe real ending.\n")
    assert essay.promo == []


def test_promo_never_empties_the_body() -> None:
    blocks = read("# T\n\nSupport my work on [Patreon](https://patreon.com/x).\n").blocks
    assert split_promo(blocks) == (blocks, [])


def test_broken_yaml_names_the_line() -> None:
    reason = read_error("---\ntitle: [unclosed\n---\n\nBody.\n")
    assert "not valid YAML" in reason and "line" in reason


def test_unclosed_front_matter_is_an_error() -> None:
    assert "never closed" in read_error("---\ntitle: T\n\nBody.\n")


def test_yaml_bomb_with_aliases_is_refused() -> None:
    bomb = "\n".join(
        ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        + [
            f"{c}: &{c} [{','.join(['*' + p] * 9)}]"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ]
    )
    reason = read_error(f"---\n{bomb}\ntitle: T\n---\n\nBody.\n")
    assert "alias" in reason and "YAML bomb" in reason


def test_front_matter_over_64_kb_is_refused() -> None:
    padding = "\n".join(f"k{n}: {'x' * 60}" for n in range(1200))
    assert "limit is 65536 bytes" in read_error(f"---\ntitle: T\n{padding}\n---\n\nBody.\n")


def test_deeply_nested_front_matter_is_refused() -> None:
    assert "nests too deeply" in read_error("---\nx: " + "[" * 20000 + "\n---\n\nBody.\n")


@pytest.mark.parametrize(
    ("front_matter", "expected"),
    [
        ("title: [a, b]", "`title` must be text, not a list"),
        ("title: 2024-01-01", "`title` must be text, not a date"),
        ("tags: 42", "`tags` must be a list"),
        ("tags: [a, [b]]", "`tags` must be a list"),
        ("publish_at: tomorrow", "`publish_at` must be a date and time"),
        ("publish_at: 2025-06-02", "`publish_at` must be a date and time"),
        ("date: soon", "`date` must be a date like 2025-01-31"),
        ("targets: 3", "`targets` must be a mapping of target name to options"),
        ("targets: {x: thread}", "`targets.x` must be a mapping of options"),
        ("canonical_url: example.org/a", "`canonical_url` must be an http(s) URL"),
        ("lang: english please", "`lang` must be a language code"),
        ("slug: a b/c", "`slug` must not contain spaces"),
        ("date: 2024-01-01\npublished: 2024-02-02", "gives both `date` and `published`"),
    ],
)
def test_wrong_front_matter_type_names_the_key_and_what_is_allowed(
    front_matter: str, expected: str
) -> None:
    assert expected in read_error(f"---\ntitle: T\n{front_matter}\n---\n\nBody.\n")


def test_front_matter_that_is_not_a_mapping_is_an_error() -> None:
    assert "must be `key: value` lines" in read_error("---\n- just\n- a list\n---\n\nBody.\n")


def test_front_matter_without_body_is_an_error() -> None:
    assert "no body" in read_error("---\ntitle: Only a title\n---\n\n")


def test_heading_without_body_is_an_error() -> None:
    assert "no body" in read_error("# Just a heading\n")


@pytest.mark.parametrize(
    "ending",
    [
        "Enjoyed this? [Buy me a coffee on Ko-fi](https://ko-fi.com/x).",
        "The route map and my spreadsheet are on [Patreon](https://www.patreon.com/x).",
        "If you liked it, [subscribe](https://example.org/newsletter).",
    ],
)
def test_trailing_call_to_action_moves_to_promo(ending: str) -> None:
    essay = read(f"# T\n\nBody.\n\n{ending}\n")
    assert [plain(b.content) for b in essay.blocks] == ["Body."]
    assert len(essay.promo) == 1


def test_link_only_promo_takes_the_call_to_action_just_before_it() -> None:
    essay = read(
        "# T\n\nBody.\n\nIf you enjoyed this, become a patron.\n\n"
        "[patreon.com/x](https://www.patreon.com/x)\n"
    )
    assert [plain(b.content) for b in essay.blocks] == ["Body."]
    assert [plain(b.content) for b in essay.promo] == [
        "If you enjoyed this, become a patron.",
        "patreon.com/x",
    ]


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("```python\nprint(1)\n```\n\nAfter the code.\n", Code),
        ("- first item\n- second item\n", ListBlock),
        ("> A quote to open with.\n\nThen prose.\n", Quote),
    ],
)
def test_a_body_opening_with_code_a_list_or_a_quote_keeps_that_block(
    source: str, kind: type
) -> None:
    essay = markdown.read(Path("night-trains.md"), source.encode())
    assert isinstance(essay.blocks[0], kind)
    assert essay.title == "Night trains"  # from the file's name, nothing taken from the body


def test_a_leading_heading_of_any_level_is_the_title() -> None:
    essay = read("## Second-level opening\n\nText.\n")
    assert essay.title == "Second-level opening"
    assert [plain(b.content) for b in essay.blocks] == ["Text."]


def test_the_first_line_is_the_title_only_when_it_is_a_plain_paragraph() -> None:
    essay = read("A *styled* first line\\\nthen the rest\n\nMore.\n")
    assert essay.title == "A styled first line"
    assert [plain(b.content) for b in essay.blocks] == ["then the rest", "More."]
