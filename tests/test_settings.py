"""Settings: crosspost.toml, then .env, then CROSSPOST_* variables; secrets stay secret;
a bad value stops the program naming the key, the file and what is allowed."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.settings import Settings, load_settings

BLOG = """
timezone = "UTC"
max_attempts = 3
[targets.blog]
platform = "wordpress"
base_url = "https://blog.example.org"
credentials = { user = "ada", app_password = "from-toml-1111" }
[notify]
smtp_host = "127.0.0.1"
smtp_password = "smtp-from-toml-2222"
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the variables a test sets itself: none inherited from the shell or CI."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("CROSSPOST_"):
            monkeypatch.delenv(name)


def home_with(tmp_path: Path, config: str, dotenv: str | None = None) -> Path:
    (tmp_path / "crosspost.toml").write_text(textwrap.dedent(config), encoding="utf-8")
    if dotenv is not None:
        (tmp_path / ".env").write_text(textwrap.dedent(dotenv), encoding="utf-8")
    return tmp_path


def config_error(home: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(home)
    return str(caught.value)


# ---------------------------------------------------------------------------- sources


def test_the_file_alone_gives_its_values(tmp_path: Path) -> None:
    settings = load_settings(home_with(tmp_path, BLOG))
    blog = settings.targets["blog"]
    assert (settings.timezone, settings.max_attempts) == ("UTC", 3)
    assert blog.credentials["app_password"].get_secret_value() == "from-toml-1111"
    assert blog.credentials["user"].get_secret_value() == "ada"


def test_dotenv_overrides_the_file_and_the_environment_overrides_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = home_with(
        tmp_path,
        BLOG,
        """
        CROSSPOST_TIMEZONE=Europe/Berlin
        CROSSPOST_MAX_ATTEMPTS=5
        CROSSPOST_TARGETS__BLOG__CREDENTIALS__APP_PASSWORD=from-dotenv-3333
        """,
    )
    settings = load_settings(home)
    assert (settings.timezone, settings.max_attempts) == ("Europe/Berlin", 5)
    blog = settings.targets["blog"]
    assert blog.credentials["app_password"].get_secret_value() == "from-dotenv-3333"

    monkeypatch.setenv("CROSSPOST_TIMEZONE", "Asia/Tokyo")
    monkeypatch.setenv("CROSSPOST_TARGETS__BLOG__CREDENTIALS__APP_PASSWORD", "from-env-4444")
    settings = load_settings(home)
    assert settings.timezone == "Asia/Tokyo"
    assert settings.max_attempts == 5  # still from .env: only what the environment names
    blog = settings.targets["blog"]
    assert blog.credentials["app_password"].get_secret_value() == "from-env-4444"
    # the nested override replaces one key; the rest of the target stays from the file
    assert blog.credentials["user"].get_secret_value() == "ada"
    assert (blog.platform, blog.base_url) == ("wordpress", "https://blog.example.org")


def test_secret_may_live_only_outside_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = home_with(tmp_path, BLOG.replace(', app_password = "from-toml-1111"', ""))
    monkeypatch.setenv("CROSSPOST_TARGETS__BLOG__CREDENTIALS__APP_PASSWORD", "only-in-env-5555")
    monkeypatch.setenv("CROSSPOST_NOTIFY__SMTP_PASSWORD", "smtp-env-6666")
    settings = load_settings(home)
    assert set(settings.secret_values()) >= {"only-in-env-5555", "smtp-env-6666", "ada"}


def test_crosspost_home_and_other_tools_variables_do_not_trip_the_loader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSPOST_HOME", str(tmp_path))
    home = home_with(
        tmp_path,
        BLOG,
        """
        CROSSPOST_HOME=/srv/crosspost
        POSTGRES_PASSWORD=for-the-database-container
        CROSSPOST_LOG_LEVEL=debug
        """,
    )
    settings = load_settings(home)
    assert settings.log_level == "debug"


def test_misspelt_key_in_dotenv_is_named(tmp_path: Path) -> None:
    home = home_with(tmp_path, BLOG, "CROSSPOST_TIMEZON=Europe/Berlin\n")
    message = config_error(home)
    assert "crosspost_timezon" in message and "unknown setting" in message


# ----------------------------------------------------------------------------- secrets


def test_secrets_never_show_in_repr_str_or_a_dump(tmp_path: Path) -> None:
    settings = load_settings(home_with(tmp_path, BLOG))
    shown = " ".join(
        [
            repr(settings),
            str(settings),
            settings.model_dump_json(),
            repr(settings.targets["blog"]),
            str(settings.notify),
            f"{settings.targets['blog'].credentials}",
        ]
    )
    assert "from-toml-1111" not in shown and "smtp-from-toml-2222" not in shown
    assert "**********" in shown
    assert set(settings.secret_values()) >= {"from-toml-1111", "smtp-from-toml-2222"}


def test_database_password_counts_as_a_secret() -> None:
    settings = Settings(database_url="postgresql+psycopg://crosspost:db-pass-7777@db:5432/cp")
    assert "db-pass-7777" in settings.secret_values()


# -------------------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            '[targets.blog]\nplatform = "wordpresss"\n',
            ["targets.blog.platform", "unknown platform 'wordpresss'", "wordpress", "mastodon"],
        ),
        ('timezone = "Mars/Olympus"\n', ["timezone", "Mars/Olympus", "IANA"]),
        (
            '[targets.toots]\nplatform = "mastodon"\nslots = ["9am"]\n',
            ["targets.toots.slots", "'9am'", "HH:MM"],
        ),
        (
            '[targets.toots]\nplatform = "mastodon"\nslots = ["24:00"]\n',
            ["targets.toots.slots", "HH:MM"],
        ),
        (
            '[targets.toots]\nplatform = "mastodon"\noffset = "soon"\n',
            ["targets.toots.offset", "duration", "48h"],
        ),
        ("retry_limit = 3\n", ["retry_limit", "unknown setting"]),
        (
            '[targets.toots]\nplatform = "mastodon"\nbase_urll = "https://x"\n',
            ["targets.toots.base_urll", "unknown setting"],
        ),
        ('log_level = "loud"\n', ["log_level", "debug, info, warning, error"]),
        (
            '[targets.toots]\nplatform = "mastodon"\nafter = "blogg"\n'
            '[targets.blog]\nplatform = "wordpress"\n',
            ["targets.toots.after", "'blogg' names no target", "allowed: blog"],
        ),
        (
            '[targets.a]\nplatform = "outbox"\nafter = "b"\n'
            '[targets.b]\nplatform = "outbox"\nrelative_to = "a"\n',
            ["cycle", "a -> b -> a"],
        ),
        (
            '[targets.a]\nplatform = "outbox"\nafter = "b"\nrelative_to = "c"\n'
            '[targets.b]\nplatform = "outbox"\n'
            '[targets.c]\nplatform = "outbox"\nrelative_to = "a"\n',
            ["cycle", "a -> c -> a"],
        ),
        ("timezone = \n", ["not valid TOML"]),
    ],
    ids=[
        "unknown-platform",
        "bad-time-zone",
        "bad-slot",
        "slot-past-midnight",
        "bad-offset",
        "unknown-key",
        "unknown-target-key",
        "bad-log-level",
        "after-names-no-target",
        "cycle",
        "cycle-through-relative-to",
        "not-toml",
    ],
)
def test_bad_value_is_refused_naming_key_file_and_what_is_allowed(
    tmp_path: Path, config: str, expected: list[str]
) -> None:
    home = home_with(tmp_path, config)
    message = config_error(home)
    assert str(home / "crosspost.toml") in message
    for part in expected:
        assert part in message, message


# ---------------------------------------------------------------------- the example file

EXAMPLE_CONFIG = (
    Path(__file__).resolve().parent.parent / "pipeline" / "defaults" / "crosspost.example.toml"
)


def uncommented(text: str) -> str:
    """The example with every switched-off setting switched on ("# key" -> "key")."""
    return "\n".join(line[2:] if line.startswith("# ") else line for line in text.splitlines())


def test_example_config_loads_as_shipped(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE_CONFIG, tmp_path / "crosspost.toml")
    settings = load_settings(tmp_path)
    assert {n: t.platform for n, t in settings.targets.items()} == {
        "site": "static_site",
        "announce": "outbox",
    }


def test_example_config_with_everything_switched_on_covers_every_platform(
    tmp_path: Path,
) -> None:
    from connectors import REGISTRY

    text = uncommented(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    # social targets link to the site: its pages need their public address, as the file says
    text = text.replace(
        'options = { title = "Essays" }',
        'options = { title = "Essays", base_url = "https://blog.example.org" }',
    )
    home = home_with(tmp_path, text)
    settings = load_settings(home)
    assert {t.platform for t in settings.targets.values()} == set(REGISTRY)
    assert settings.feeds and settings.notify.mail_to and settings.database_url
    for name, target in settings.targets.items():
        module = REGISTRY[target.platform].partition(":")[0].replace(".", "/") + ".py"
        root = Path(__file__).resolve().parent.parent
        # options every connector shares are read in base.py and social.py; the static
        # site reads its options through its own model in connectors/site/options.py
        source = "\n".join(
            (root / path).read_text(encoding="utf-8")
            for path in (
                module,
                "connectors/base.py",
                "connectors/social.py",
                "connectors/site/options.py",
            )
        )
        for key in [*target.options, *target.credentials]:
            assert f'"{key}"' in source or f"'{key}'" in source, (
                f"targets.{name}: {key!r} is not a setting the {target.platform} connector reads"
            )
