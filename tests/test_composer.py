"""Announcements and threads always fit every platform, and threads lose no word."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.document import (
    Code,
    Essay,
    Footnote,
    Heading,
    InlineImage,
    LineBreak,
    ListBlock,
    ListItem,
    NoteRef,
    Paragraph,
    Quote,
    Run,
    Table,
    TableCell,
)
from pipeline.render.composer import ELLIPSIS, announcement, social_text, thread
from pipeline.render.hashtags import hashtags
from pipeline.render.lengths import RULES, LengthRule
from tests.essay_strategies import block_words, keeps_in_order, nested_essays

LINK = "https://blog.example.com/2024/05/why-i-write-every-morning/"

WORDS = [
    "the",
    "essay",
    "writing",
    "morning",
    "naïve",
    "l'été",
    "über",
    "Привет",
    "שלום",
    "हिन्दी",
    "क्षत्रिय",
    "日本語",
    "中文",
    "한국어",
    "😀",
    "👍🏽",
    "👨‍👩‍👧‍👦",
    "🇩🇪",
    "❤️",
    "“quoted”",
    "(aside)",
    "—",
    "https://example.com",
    "https://en.wikipedia.org/wiki/Essay_(genre)",
    "http://test.co/a?b=1",
    "example.org",
    "#hash",
    "@alice@example.social",
    "3.14",
]
word = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(WORDS),
    # one word longer than some posts
    st.builds(lambda n, c: c * n, st.integers(60, 400), st.sampled_from("abcdefghij")),
)
sentence = st.builds(
    lambda words, end: " ".join(words) + end,
    st.lists(word, min_size=1, max_size=15),
    st.sampled_from([".", "!", "?", "。", ""]),
)
paragraph = st.lists(sentence, min_size=1, max_size=4).map(" ".join)
cjk_paragraph = st.lists(st.sampled_from(["文章を書く。", "毎朝書きます！", "なぜ？"]), max_size=40)


def _runs(text: str) -> list[Run]:
    return [Run(text=text)]


block = st.one_of(
    paragraph.map(lambda t: Paragraph(content=_runs(t))),
    cjk_paragraph.map(lambda parts: Paragraph(content=_runs("".join(parts)))),
    sentence.map(lambda t: Heading(level=2, content=_runs(t))),
    st.lists(paragraph, min_size=1, max_size=3).map(
        lambda ps: Quote(paragraphs=[_runs(p) for p in ps])
    ),
    st.lists(sentence, min_size=1, max_size=4).map(
        lambda items: ListBlock(items=[ListItem(content=_runs(i)) for i in items])
    ),
    st.just(Code(text="print('hello')\nreturn 1")),
)
essays = st.builds(
    Essay,
    title=st.lists(st.sampled_from(WORDS[:20]), min_size=1, max_size=30).map(" ".join),
    subtitle=st.one_of(st.none(), paragraph),
    tags=st.lists(
        st.sampled_from(
            ["writing", "machine learning", "IndieWeb", "日本語", "self-publishing", "2024"]
        ),
        max_size=6,
    ),
    blocks=st.lists(block, min_size=1, max_size=4),
)
links = st.one_of(st.none(), st.just(LINK))

SUFFIX = re.compile(r" \((\d+)/(\d+)\)$")


def _strip_numbering(posts: list[str]) -> list[str]:
    stripped = []
    for k, post in enumerate(posts, 1):
        match = SUFFIX.search(post)
        if len(posts) > 1:
            assert match and (int(match[1]), int(match[2])) == (k, len(posts))
            post = post[: match.start()]
        stripped.append(post)
    return stripped


def _body(essay: Essay) -> str:
    from pipeline.document import block_text

    return " ".join(block_text(b) for b in essay.blocks)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(essays, nested_essays), links)
def test_every_announcement_fits_every_platform_and_keeps_the_link_whole(
    essay: Essay, link: str | None
) -> None:
    for rule in RULES.values():
        text = announcement(essay, link, rule)
        assert rule.fits(text), rule.name
        if link:
            assert link in text.split()
        made = hashtags(essay.tags)
        used = [w for w in text.split() if w in made]
        assert used == made[: len(used)]  # hashtags dropped only from the end, never cut


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(essays, links)
def test_every_thread_post_fits_and_the_thread_keeps_every_character_in_order(
    essay: Essay, link: str | None
) -> None:
    for rule in RULES.values():
        posts = thread(essay, link, rule)
        assert all(rule.fits(p) for p in posts), rule.name
        text = "\n".join(_strip_numbering(posts))
        expected = " ".join([essay.title, link or "", _body(essay)])
        assert "".join(text.split()) == "".join(expected.split())
        if link:
            assert link in posts[0].split()


latin_essays = st.builds(
    Essay,
    title=st.just("On writing"),
    blocks=st.lists(
        st.lists(
            st.sampled_from(
                [
                    "the",
                    "essay",
                    "writes",
                    "itself.",
                    "Why?",
                    "naïve",
                    "😀",
                    "https://example.com/a",
                    "morning,",
                ]
            ),
            min_size=1,
            max_size=200,
        )
        .map(" ".join)
        .map(lambda t: Paragraph(content=[Run(text=t)])),
        min_size=1,
        max_size=4,
    ),
)


@settings(max_examples=100, deadline=None)
@given(latin_essays)
def test_thread_keeps_the_same_word_sequence(essay: Essay) -> None:
    for rule in RULES.values():
        posts = thread(essay, LINK, rule)
        words = " ".join(_strip_numbering(posts)).split()
        assert words == " ".join([essay.title, LINK, _body(essay)]).split()


def _essay(lead: str, tags: list[str] | None = None, title: str = "On writing") -> Essay:
    return Essay(title=title, tags=tags or [], blocks=[Paragraph(content=[Run(text=lead)])])


def test_long_teaser_is_cut_at_a_word_with_an_ellipsis() -> None:
    lead = " ".join(f"word{i}" for i in range(200))
    text = announcement(_essay(lead), LINK, RULES["x"])
    teaser = text.split("\n\n")[1]
    assert teaser.endswith(ELLIPSIS)
    assert lead.startswith(teaser[: -len(ELLIPSIS)])
    assert teaser[: -len(ELLIPSIS)].split()[-1] in lead.split()
    assert RULES["x"].fits(text)


def test_template_with_empty_placeholders_leaves_no_blank_runs() -> None:
    text = announcement(Essay(title="Title only"), None, RULES["mastodon"])
    assert text == "Title only"


def test_hashtags_go_before_the_title_is_touched() -> None:
    tags = [f"topic number {i}" for i in range(30)]
    essay = _essay("", tags=tags, title="A title that must survive")
    rule = LengthRule(120, len, "tiny")
    text = announcement(essay, LINK, rule)
    assert text.startswith("A title that must survive")
    kept = text.split("\n\n")[-1].split()
    assert kept and kept == hashtags(tags)[: len(kept)]
    assert rule.fits(text)


def test_title_is_shortened_last_and_the_link_never_cut() -> None:
    essay = _essay("lead text", title=" ".join(["long"] * 100))
    rule = LengthRule(80, len, "tiny")
    text = announcement(essay, LINK, rule)
    assert text.endswith(LINK) and ELLIPSIS in text and rule.fits(text)


def test_announcement_refuses_when_not_even_the_link_fits() -> None:
    with pytest.raises(ValueError):
        announcement(_essay("lead"), LINK, LengthRule(20, len, "tiny"))


def test_thread_numbers_posts_and_fits_the_numbering() -> None:
    lead = " ".join(f"Sentence number {i} is here." for i in range(300))
    posts = thread(_essay(lead), LINK, RULES["x"])
    assert len(posts) > 9  # the suffix widens from (9/n) to (10/n)
    assert all(RULES["x"].fits(p) for p in posts)
    _strip_numbering(posts)


def test_short_essay_is_one_unnumbered_post() -> None:
    assert thread(_essay("Just this."), LINK, RULES["mastodon"]) == [
        f"On writing\n{LINK}\n\nJust this."
    ]


def test_thread_leaves_out_promo_and_related() -> None:
    essay = _essay("Body text.")
    essay.promo = [Paragraph(content=[Run(text="Subscribe to my newsletter")])]
    assert "Subscribe" not in " ".join(thread(essay, LINK, RULES["mastodon"]))


def test_thread_splits_sentences_not_words_when_it_can() -> None:
    lead = " ".join(f"This is sentence {i} of the essay." for i in range(40))
    for post in _strip_numbering(thread(_essay(lead), None, RULES["x"]))[1:]:
        assert post.endswith(".")


def test_urls_are_never_split_across_posts() -> None:
    url = "https://example.com/" + "a" * 200
    posts = thread(_essay(" ".join(["word"] * 300 + [url] + ["word"] * 10)), None, RULES["x"])
    assert [p for p in posts if "example.com" in p] == [p for p in posts if url in p.split()]


def test_unspaced_text_is_cut_between_characters_but_never_inside_a_url() -> None:
    url = "https://example.com/page"
    lead = "日本語の文" * 40 + url + "を見てください" * 30
    for rule in (RULES["x"], RULES["bluesky"]):
        posts = _strip_numbering(thread(_essay(lead), None, rule))
        assert len(posts) > 2 and all(rule.fits(p) for p in posts)
        assert sum(url in p for p in posts) == 1
        assert "".join("".join(posts).split()) == "".join(f"On writing{lead}".split())


def test_a_teaser_without_spaces_is_cut_between_characters() -> None:
    lead = "毎朝書きます" * 100
    text = announcement(_essay(lead), LINK, RULES["x"])
    teaser = text.split("\n\n")[1]
    assert teaser.endswith(ELLIPSIS) and lead.startswith(teaser[:-1])
    assert RULES["x"].fits(text)


@pytest.mark.parametrize(
    ("tags", "style", "expected"),
    [
        (["machine learning"], "camel", ["#MachineLearning"]),
        (["indieweb"], "camel", ["#indieweb"]),
        (["NaNoWriMo"], "camel", ["#NaNoWriMo"]),
        (["self-publishing"], "camel", ["#SelfPublishing"]),
        (["machine learning"], "lower", ["#machinelearning"]),
        (["machine learning"], "plain", ["#machinelearning"]),
        (["IndieWeb", "indieweb", "#indieweb"], "camel", ["#IndieWeb"]),
        (["", "  ", "!!", "2024"], "camel", []),
        ([], "camel", []),
        (["日本語"], "camel", ["#日本語"]),
    ],
)
def test_hashtags_from_tags(tags: list[str], style: str, expected: list[str]) -> None:
    assert hashtags(tags, style) == expected  # type: ignore[arg-type]


# ---------------------------------------------------------------- nested trees


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nested_essays, links)
def test_nested_trees_give_threads_that_fit_and_keep_every_word_in_order(
    essay: Essay, link: str | None
) -> None:
    expected = essay.title.split() + ([link] if link else [])
    expected += [w for block in essay.blocks for w in block_words(block)]
    for rule in RULES.values():
        for numbered in (True, False):
            posts = thread(essay, link, rule, numbered=numbered)
            assert all(rule.fits(p) for p in posts), rule.name
            text = "\n".join(_strip_numbering(posts) if numbered else posts)
            assert keeps_in_order(expected, text.split()) == [], rule.name
            assert "|" not in text.replace("x|y", "")  # a table is never pipes


def test_a_note_reference_leaves_no_number_glued_to_a_word_in_a_thread() -> None:
    essay = Essay(
        title="On trains",
        blocks=[Paragraph(content=[Run(text="It took a year"), NoteRef(label="1"), Run(text=".")])],
        footnotes=[Footnote(label="1", blocks=[Paragraph(content=[Run(text="Or two.")])])],
    )
    (post,) = thread(essay, None, RULES["x"])
    assert post == "On trains\n\nIt took a year."  # the note itself stays on the blog
    assert announcement(essay, None, RULES["x"]) == "On trains\n\nIt took a year."


def test_a_table_reaches_a_thread_as_rows_that_name_their_columns() -> None:
    def cell(text: str) -> TableCell:
        return TableCell(content=[Run(text=text)])

    table = Table(
        header=[cell("Year"), cell("Riders")],
        rows=[[cell("2019"), cell("3,000")], [cell("2020"), cell("")]],
    )
    assert social_text(table) == "Year: 2019 · Riders: 3,000\nYear: 2020"


def test_nested_blocks_reach_a_thread_in_reading_order() -> None:
    essay = Essay(
        title="Steps",
        blocks=[
            Quote(
                blocks=[
                    Paragraph(content=[Run(text="Before the list.")]),
                    ListBlock(
                        items=[
                            ListItem(
                                blocks=[
                                    Paragraph(content=[Run(text="Install:")]),
                                    Code(text="pip install x"),
                                    ListBlock(items=[ListItem(content=[Run(text="deeper")])]),
                                ]
                            )
                        ]
                    ),
                    Paragraph(content=[Run(text="After it.")]),
                ]
            )
        ],
    )
    (post,) = thread(essay, None, RULES["mastodon"])
    assert post == "Steps\n\nBefore the list.\nInstall:\npip install x\ndeeper\nAfter it."


def test_an_inline_image_or_break_never_glues_two_words_in_a_post() -> None:
    paragraph = Paragraph(
        content=[
            Run(text="see"),
            InlineImage(src="https://e.x/b.png", alt="the badge"),
            Run(text="here"),
            LineBreak(),
            Run(text="next"),
        ]
    )
    assert social_text(paragraph) == "see the badge here\nnext"
    essay = Essay(title="T", blocks=[paragraph])
    assert announcement(essay, None, RULES["x"]) == "T\n\nsee the badge here next"
