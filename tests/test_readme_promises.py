"""What the README promises the author and the operator, checked as they would: the real
`crosspost` program run as a process, its output and exit code (issue 12, one test or
more per point)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from pipeline.frontmatter import reference_table
from pipeline.readers import read_file
from tests.daemon_helpers import (
    EXAMPLE,
    ROOT,
    crosspost,
    env_for,
    make_home,
    refused_files,
    status,
)

PUBLIC_SITE = """
timezone = "UTC"
[targets.site]
platform = "static_site"
options = { base_url = "https://blog.example.org" }
"""

# social targets as local dry runs (outbox imitating the platform): no network needed
FRONT_MATTER_CONFIG = (
    PUBLIC_SITE
    + """
[targets.x]
platform = "outbox"
after = "site"
options = { as = "x" }
[targets.mastodon]
platform = "outbox"
after = "site"
options = { as = "mastodon" }
"""
)

LONG_TITLE = "A Rather Long Title That Goes On Well Past Forty Characters Of Table Width"


def essay(tmp_path: Path, front_matter: str, name: str = "essay.md") -> Path:
    path = tmp_path / name
    body = "\n\n".join(f"Paragraph {i}. Sentences follow sentences here." for i in range(12))
    path.write_text(f"---\n{front_matter.strip()}\n---\n\n{body}\n", encoding="utf-8")
    return path


def crosspost_as_typed(*args: str) -> subprocess.CompletedProcess[str]:
    """The program with exactly these arguments (no `--home` put in front of them)."""
    command = [sys.executable, "-m", "pipeline.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env_for(), cwd=ROOT)


def planned_targets(output: str) -> set[str]:
    rows = output.split("TARGET", 1)[1].splitlines()[2:]
    return {row.split()[0] for row in rows if row.strip() and not row.startswith(("note", "warn"))}


# -------------------------------------------------------- 1. front-matter switches


def test_top_level_switch_and_targets_form_both_turn_a_target_off(tmp_path: Path) -> None:
    home = make_home(tmp_path, FRONT_MATTER_CONFIG)
    for form in ("x: false", "targets:\n  x: false"):
        path = essay(tmp_path, f"title: Not on X\n{form}")
        shown = crosspost(home, "plan", str(path))
        assert shown.returncode == 0, shown.stderr
        assert planned_targets(shown.stdout) == {"site", "mastodon"}, shown.stdout
        assert "x: switched off by the essay's front matter" in shown.stdout


def test_top_level_options_reach_what_is_published(tmp_path: Path) -> None:
    home = make_home(tmp_path, FRONT_MATTER_CONFIG)
    path = essay(tmp_path, "title: A Thread Here\nx: false\nmastodon: { mode: thread }")
    previewed = crosspost(home, "preview", str(path), "--target", "mastodon", "--json")
    assert previewed.returncode == 0, previewed.stderr
    assert len(json.loads(previewed.stdout)["targets"]["mastodon"]["posts"]) > 1
    shutil.copy(path, home / "inbox")
    assert crosspost(home, "run", "--once").returncode == 0
    assert len(list((home / "outbox" / "mastodon").glob("*.json"))) > 1  # a thread went out
    assert not (home / "outbox" / "x").exists()  # and nothing to X


def test_unknown_front_matter_keys_are_warnings_in_plan_preview_and_run(tmp_path: Path) -> None:
    home = make_home(tmp_path, FRONT_MATTER_CONFIG)
    path = essay(tmp_path, "title: Hugo Leftovers\nlayout: post\ntargets:\n  nowhere: false")
    planned = crosspost(home, "plan", str(path))
    previewed = crosspost(home, "preview", str(path))
    shutil.copy(path, home / "inbox")
    ran = crosspost(home, "run", "--once")
    for result in (planned, previewed, ran):
        assert result.returncode == 0, result.stderr
        said = result.stdout + result.stderr
        assert "'layout'" in said and "nowhere" in said, said


def test_same_target_at_the_top_and_under_targets_is_refused(tmp_path: Path) -> None:
    home = make_home(tmp_path, FRONT_MATTER_CONFIG)
    path = essay(tmp_path, "title: Twice\nx: false\ntargets:\n  x: { mode: thread }")
    shown = crosspost(home, "plan", str(path))
    assert shown.returncode == 2 and "sets target 'x' twice" in shown.stderr


def test_a_misspelt_option_in_front_matter_stops_the_essay(tmp_path: Path) -> None:
    home = make_home(tmp_path, FRONT_MATTER_CONFIG)
    path = essay(tmp_path, "title: Typo\nmastodon: { mode: thred }")
    shown = crosspost(home, "plan", str(path))
    assert shown.returncode == 2
    assert "mastodon.mode" in shown.stderr and "'announcement', 'thread'" in shown.stderr


# ------------------------------------------------------------- 2. links that work


def test_a_social_target_linking_to_a_private_site_is_refused_with_the_key(
    tmp_path: Path,
) -> None:
    home = make_home(
        tmp_path,
        """
        timezone = "UTC"
        [targets.site]
        platform = "static_site"
        [targets.toot]
        platform = "mastodon"
        base_url = "https://mastodon.example"
        after = "site"
        credentials = { access_token = "t" }
        """,
    )
    for command in (["status"], ["plan", str(EXAMPLE)], ["run", "--once"], ["accounts", "check"]):
        result = crosspost(home, *command)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert "targets.site.options.base_url" in result.stderr, result.stderr
        assert "crosspost.toml" in result.stderr
    config = (home / "crosspost.toml").read_text(encoding="utf-8")
    (home / "crosspost.toml").write_text(
        config.replace('after = "site"', 'after = "site"\nallow_private_links = true')
    )
    assert crosspost(home, "status").returncode == 0  # readers on this network: allowed


def test_an_outbox_dry_run_may_link_to_the_local_site(tmp_path: Path) -> None:
    home = make_home(tmp_path)  # site without base_url, outbox after it: the demo
    shutil.copy(EXAMPLE, home / "inbox")
    assert crosspost(home, "run", "--once").returncode == 0


def test_preview_shows_the_static_pages_future_url_as_the_link(tmp_path: Path) -> None:
    home = make_home(tmp_path, FRONT_MATTER_CONFIG)
    path = essay(tmp_path, "title: Known Address")
    shown = crosspost(home, "preview", str(path), "--target", "mastodon", "--json")
    target = json.loads(shown.stdout)["targets"]["mastodon"]
    assert target["link"]["url"] == "https://blog.example.org/known-address.html"
    assert "https://blog.example.org/known-address.html" in target["posts"][0]["request"]["status"]


def test_demo_preview_links_where_the_outbox_request_links(tmp_path: Path) -> None:
    home = make_home(tmp_path)  # the demo: a local site, an outbox dry run after it
    shown = crosspost(home, "preview", str(EXAMPLE), "--target", "announce", "--json")
    link = json.loads(shown.stdout)["targets"]["announce"]["link"]
    page = (home / "site" / "own-your-archive-a-field-guide-for-independent-writers.html").as_uri()
    assert (link["url"], link["placeholder"]) == (page, False)
    shutil.copy(EXAMPLE, home / "inbox")
    assert crosspost(home, "run", "--once").returncode == 0
    [sent] = (home / "outbox" / "announce").glob("*.json")
    assert page in json.loads(sent.read_text(encoding="utf-8"))["request"]["status"]


# ---------------------------------------------------------- 4. options checked at start


def test_bad_option_values_stop_every_command_with_key_file_and_allowed(tmp_path: Path) -> None:
    home = make_home(
        tmp_path,
        PUBLIC_SITE
        + """
        [targets.toot]
        platform = "mastodon"
        base_url = "https://mastodon.example"
        after = "site"
        credentials = { access_token = "t" }
        options = { mode = "announcment", visibility = "everyone", visibilty = "public" }
        """,
    )
    commands = (["status"], ["plan", str(EXAMPLE)], ["accounts", "check"], ["run", "--once"])
    for command in [*commands, ["worker", "--once"]]:
        result = crosspost(home, *command)
        assert result.returncode == 2, (command, result.stderr)
        said = result.stderr
        assert str(home / "crosspost.toml") in said
        assert "targets.toot.options.mode: 'announcment' is not allowed" in said, said
        assert "'announcement', 'thread'" in said
        assert "targets.toot.options.visibility" in said and "'unlisted'" in said
        assert "targets.toot.options.visibilty: unknown option" in said
        assert "Traceback" not in said and "Error:" not in said


# --------------------------------------------------------------- 5. status never cuts


def test_status_cuts_with_an_ellipsis_and_full_cuts_nothing(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    essay(home / "inbox", f"title: {LONG_TITLE}")
    assert crosspost(home, "run", "--once").returncode == 0
    short = crosspost(home, "status")
    assert short.returncode == 0
    assert LONG_TITLE[:30] in short.stdout and "…" in short.stdout
    assert LONG_TITLE not in short.stdout
    for line in short.stdout.splitlines():  # the last column (URLs, next steps) is whole
        if "file://" in line:
            assert line.rstrip().endswith((".html", ".json")), line
    full = crosspost(home, "status", "--full")
    assert LONG_TITLE in full.stdout and "…" not in full.stdout


# ------------------------------------------------------ 7./8. homes and where --home goes


def test_read_only_commands_refuse_a_folder_that_is_not_a_home_and_create_nothing(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "not-a-home"
    empty.mkdir()
    misspelt = tmp_path / "hoem"
    for home in (empty, misspelt):
        for command in (
            ["status"],
            ["status", "--json"],
            ["logs"],
            ["plan", str(EXAMPLE)],
            ["accounts", "check"],
            ["retry", "1"],
        ):
            result = crosspost(home, *command)
            assert result.returncode == 2, (command, result.stdout)
            assert "not a crosspost home" in result.stderr
            assert f"crosspost init {home}" in result.stderr
    assert list(empty.iterdir()) == [] and not misspelt.exists()


def test_home_is_taken_before_or_after_the_command(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    after = crosspost_as_typed("status", "--home", str(home))
    assert after.returncode == 0, after.stderr
    assert "nothing planned yet" in after.stdout
    assert not (home / "crosspost.db").exists()  # a look creates no database either


# ----------------------------------------------------------- 6. honest exit codes


def test_run_and_worker_once_exit_4_while_a_publication_waits_for_a_person(
    tmp_path: Path,
) -> None:
    home = make_home(
        tmp_path,
        PUBLIC_SITE + '[targets.patrons]\nplatform = "patreon"\noptions = { access = "patrons" }\n',
    )
    shutil.copy(EXAMPLE, home / "inbox")
    ran = crosspost(home, "run", "--once")
    assert ran.returncode == 4 and "wait for you" in ran.stderr, ran.stderr
    assert crosspost(home, "worker", "--once").returncode == 4
    [patrons] = [row for row in status(home) if row["target"] == "patrons"]
    url = "https://www.patreon.com/posts/1"
    assert crosspost(home, "confirm", str(patrons["id"]), url).returncode == 0
    assert crosspost(home, "run", "--once").returncode == 0


# ------------------------------------------------------------ 9. refused inbox files


def test_status_lists_refused_inbox_files_with_their_reason(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    (home / "inbox" / "notes.docx").write_bytes(b"not a zip at all")
    ran = crosspost(home, "run", "--once")
    assert ran.returncode == 3, ran.stderr  # documented: a file was refused in this run
    assert "1 inbox file(s) refused" in ran.stderr
    shown = crosspost(home, "status")
    assert "failed/notes.docx" in shown.stdout and "not a Word document" in shown.stdout
    [row] = refused_files(home)
    assert row["file"] == "failed/notes.docx" and "not a Word document" in row["last_error"]


# ------------------------------------------------------ 10. plan knows what is published


def test_plan_says_already_published_for_a_known_essay(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    shutil.copy(EXAMPLE, home / "inbox")
    assert crosspost(home, "run", "--once").returncode == 0
    shown = crosspost(home, "plan", str(EXAMPLE))
    assert shown.returncode == 0, shown.stderr
    assert "already known as essay 1" in shown.stdout
    assert shown.stdout.count("already published (publication") == 2, shown.stdout
    listed = json.loads(crosspost(home, "plan", str(EXAMPLE), "--json").stdout)
    assert listed["known_essay_id"] == 1
    assert [p["state"] for p in listed["publications"]] == ["published", "published"]
    assert all(p["why"].startswith("already published") for p in listed["publications"])


# ------------------------------------------------------------ 11. the credential hint


def test_a_missing_credential_names_the_environment_variable(tmp_path: Path) -> None:
    home = make_home(
        tmp_path,
        """
        timezone = "UTC"
        [targets.toot]
        platform = "mastodon"
        base_url = "http://127.0.0.1:9"
        """,
    )
    shutil.copy(EXAMPLE, home / "inbox")
    crosspost(home, "run", "--once")
    [row] = status(home)
    assert "CROSSPOST_TARGETS__TOOT__CREDENTIALS__ACCESS_TOKEN" in (row["last_error"] or ""), row


# --------------------------------------------------- 12. messages without Python in them


def test_preview_of_an_unknown_target_says_which_targets_exist(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    result = crosspost(home, "preview", str(EXAMPLE), "--target", "nosuch")
    assert result.returncode == 2
    assert "no target named nosuch" in result.stderr and "site, announce" in result.stderr
    assert "KeyError" not in result.stderr and "Error:" not in result.stderr


def test_log_lines_carry_an_iso_date_and_time(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    shutil.copy(EXAMPLE, home / "inbox")
    crosspost(home, "run", "--once")
    shown = crosspost(home, "logs")
    lines = shown.stdout.splitlines()
    assert lines and all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", line) for line in lines), (
        lines
    )


def test_logs_say_when_nothing_matched(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    empty = crosspost(home, "logs")
    assert empty.returncode == 0 and "no log lines yet" in empty.stdout
    shutil.copy(EXAMPLE, home / "inbox")
    crosspost(home, "run", "--once")
    none = crosspost(home, "logs", "--target", "nosuch", "--level", "error")
    assert none.returncode == 0
    assert "no log lines match (level error or above, target nosuch)" in none.stdout


def test_reschedule_examples_are_in_the_future(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    helped = crosspost_as_typed("reschedule", "--help")
    shutil.copy(EXAMPLE, home / "inbox")
    crosspost(home, "run", "--once")
    refused = crosspost(home, "reschedule", "1", "next tuesday")
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    for text in (helped.stdout, refused.stderr):
        [example] = re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text)
        assert example[:10] > today, text


# ---------------------------------------------------------------- 13. the repository


def test_no_wheel_or_archive_is_tracked_and_gitignore_keeps_them_out() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.split()
    assert not [name for name in tracked if name.endswith((".whl", ".tar.gz", ".zip"))]
    ignored = subprocess.run(
        ["git", "check-ignore", "py_spy-0.4.3-py2.py3-none-any.whl", "x.tar.gz"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert ignored.stdout.split() == ["py_spy-0.4.3-py2.py3-none-any.whl", "x.tar.gz"]


# -------------------------------------------------------------------- 14. the README


README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_front_matter_reference_is_the_schema() -> None:
    assert reference_table() in README


def test_readme_says_how_to_reach_crosspost_and_what_tests_need() -> None:
    assert ".venv/bin/crosspost" in README and "source .venv/bin/activate" in README
    assert "20 minutes" in README and "1.5 GB" in README and "PostgreSQL server" in README


def test_examples_hold_one_readable_essay_per_input_format() -> None:
    examples = sorted(p for p in (ROOT / "examples").iterdir() if p.suffix != ".py")
    assert {p.suffix for p in examples} == {".md", ".txt", ".html", ".docx"}
    formats = {read_file(p).source_format for p in examples}
    assert len(formats) == 4, formats
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for suffix in ("md", "txt", "html", "docx"):
        assert f"examples/*.{suffix}" in makefile


def test_init_example_writes_the_packaged_example_which_loads(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    made = crosspost_as_typed("init", str(home), "--example")
    assert made.returncode == 0, made.stderr
    example = home / "crosspost.example.toml"
    assert "every setting and every platform" in example.read_text(encoding="utf-8")
    shutil.copy(example, home / "crosspost.toml")
    assert crosspost(home, "status").returncode == 0
    packaged = ROOT / "pipeline" / "defaults"
    for name in ("crosspost.toml", "crosspost.example.toml"):
        assert (packaged / name).is_file() and not (packaged / name).is_symlink()
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "defaults/*" in package_data["package-data"]["pipeline"]
