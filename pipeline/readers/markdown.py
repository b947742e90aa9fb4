"""Markdown with optional YAML front matter → `Essay`.

Front matter is the author's metadata (title, tags, canonical URL, schedule, per-target
options); the body is GitHub-flavoured Markdown, parsed by pulldown-cmark (see `markdown_tree`). Raw
HTML is reduced to its words rather than passed through, so nothing a renderer emits can
carry a `<script>` from the input.
Unknown front-matter keys are ignored, so files written for Hugo or Jekyll (`layout`,
`draft`, …) still read.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from pipeline.document import Block, Essay, Heading, Paragraph, plain
from pipeline.errors import ReadError
from pipeline.readers import decode_text
from pipeline.readers.markdown_tree import ParsedBody, parse_markdown
from pipeline.readers.promo import split_promo

MAX_FRONT_MATTER_BYTES = 64 * 1024

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?)^(?:---|\.\.\.)[ \t]*$", re.S | re.M)
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
_HAS_TIME = re.compile(r"\d:\d\d")
_TEXT_KEYS = ("title", "subtitle", "author", "slug")


# --- front matter -------------------------------------------------------------------------


class _AliasRefused(Exception):
    def __init__(self, mark: yaml.Mark | None) -> None:
        self.mark = mark


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases.

    Aliases are how a "billion laughs" YAML bomb makes a few hundred bytes expand into
    gigabytes; front matter never needs them, so any `&anchor` or `*alias` is an error.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _AliasRefused(event.start_mark)
        return super().compose_node(parent, index)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, datetime):
        return "a date and time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__


def split_front_matter(path: Path, text: str) -> tuple[dict[str, Any], str]:
    """(metadata, body). A file without a leading `---` line has no front matter."""
    if not re.match(r"---[ \t]*\n", text):
        return {}, text
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise ReadError(path, "the front matter opened by --- on line 1 is never closed by ---")
    source = match["yaml"]
    size = len(source.encode("utf-8"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise ReadError(
            path,
            f"the front matter is {size} bytes; the limit is {MAX_FRONT_MATTER_BYTES} bytes",
        )
    try:
        meta = yaml.load(source, Loader=_NoAliasLoader)  # a SafeLoader without aliases
    except _AliasRefused as exc:
        where = f" (line {exc.mark.line + 2})" if exc.mark else ""
        raise ReadError(
            path,
            f"the front matter uses a YAML anchor or alias (& or *){where}; they are refused "
            "because aliases can expand into a huge document (a YAML bomb)",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ReadError(path, f"the front matter is not valid YAML{where}: {problem}") from None
    except RecursionError:
        raise ReadError(path, "the front matter nests too deeply to be metadata") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ReadError(path, f"the front matter must be `key: value` lines, not {_kind(meta)}")
    return meta, text[match.end() :]


def _text(path: Path, meta: dict[str, Any], key: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ReadError(
            path, f"front matter `{key}` must be text, not {_kind(value)} (quote it if needed)"
        )
    return str(value).strip() or None


def _one_of(path: Path, meta: dict[str, Any], *keys: str) -> tuple[str, Any]:
    """The value of whichever synonym is given (`date`/`published`); two that differ is an error."""
    given = [(key, meta[key]) for key in keys if meta.get(key) is not None]
    if len({repr(value) for _, value in given}) > 1:
        raise ReadError(path, f"front matter gives both `{given[0][0]}` and `{given[1][0]}`")
    return given[0] if given else (keys[0], None)


def _published(path: Path, meta: dict[str, Any]) -> date | None:
    key, value = _one_of(path, meta, "date", "published")
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip()).date()
        except ValueError:
            pass
    raise ReadError(
        path, f"front matter `{key}` must be a date like 2025-01-31, not {_kind(value)} {value!r}"
    )


def _publish_at(path: Path, meta: dict[str, Any]) -> datetime | None:
    value = meta.get("publish_at")
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str) and _HAS_TIME.search(value):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ReadError(
        path,
        "front matter `publish_at` must be a date and time like 2025-06-02T08:00:00+02:00 "
        f"(with or without the offset), not {_kind(value)} {value!r}",
    )


def _tags(path: Path, meta: dict[str, Any]) -> list[str]:
    value = meta.get("tags")
    if value is None:
        return []
    if isinstance(value, str):
        raw: list[object] = list(value.split(","))
    elif isinstance(value, list):
        raw = value
    else:
        raw = [value]
    if any(isinstance(tag, bool) or not isinstance(tag, str | int | float) for tag in raw) or (
        not isinstance(value, str | list)
    ):
        raise ReadError(
            path,
            "front matter `tags` must be a list like [writing, indieweb] or a comma-separated "
            f"string, not {_kind(value)}",
        )
    tags: list[str] = []
    seen: set[str] = set()
    for tag in raw:
        cleaned = str(tag).strip().strip("\"'").lstrip("#").strip()
        if cleaned and cleaned.casefold() not in seen:
            seen.add(cleaned.casefold())
            tags.append(cleaned)
    return tags


def _targets(path: Path, meta: dict[str, Any]) -> dict[str, dict | bool] | None:
    """Per-essay targets: a mapping (options, or false to switch one off) or a list of names.

    A list means "only these": it is kept as the names plus `"*": false` (every other
    target off), so the planner needs no second field to know the author's intent.
    """
    value = meta.get("targets")
    allowed = "a mapping of target name to options (or false), or a list of target names"
    if value is None:
        return None
    if isinstance(value, list):
        if not all(isinstance(name, str) for name in value):
            raise ReadError(path, f"front matter `targets` must be {allowed}")
        return {**{name: {} for name in value}, "*": False}
    if not isinstance(value, dict):
        raise ReadError(path, f"front matter `targets` must be {allowed}, not {_kind(value)}")
    targets: dict[str, dict | bool] = {}
    for name, options in value.items():
        if not isinstance(name, str):
            raise ReadError(path, f"front matter `targets` must be {allowed}")
        if isinstance(options, bool):
            targets[name] = options
            continue
        if options is not None and not isinstance(options, dict):
            raise ReadError(
                path,
                f"front matter `targets.{name}` must be a mapping of options "
                f"(like {{ mode: thread }}), false, or empty, not {_kind(options)}",
            )
        targets[name] = dict(options or {})
    return targets


def metadata(path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Front matter checked and converted to `Essay` fields; a wrong type names key and rule."""
    fields: dict[str, Any] = {key: _text(path, meta, key) for key in _TEXT_KEYS}
    canonical = _text(path, meta, "canonical_url")
    if canonical and not canonical.lower().startswith(("http://", "https://")):
        raise ReadError(path, f"front matter `canonical_url` must be an http(s) URL: {canonical!r}")
    key, language = _one_of(path, meta, "language", "lang")
    language = _text(path, {key: language}, key)
    if language and not _LANGUAGE.match(language):
        raise ReadError(
            path, f"front matter `{key}` must be a language code like en or pt-BR: {language!r}"
        )
    slug = fields["slug"]
    if slug and re.search(r"[\s/]", slug):
        raise ReadError(path, f"front matter `slug` must not contain spaces or '/': {slug!r}")
    fields.update(
        canonical_url=canonical,
        language=language,
        published=_published(path, meta),
        publish_at=_publish_at(path, meta),
        tags=_tags(path, meta),
        targets=_targets(path, meta),
    )
    return fields


# --- body ---------------------------------------------------------------------------------


def parse_body(path: Path, source: str) -> ParsedBody:
    """The body parsed; a failure inside the native parser is a ReadError.

    pyo3 reports a Rust panic as a `BaseException`, so that is what is caught (but never
    Ctrl-C or an exit).
    """
    try:
        return parse_markdown(source)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        raise ReadError(path, "the Markdown could not be parsed") from None


def _file_title(path: Path) -> str:
    """A title from the file's name (`night-trains.md` -> "Night trains"), the last resort."""
    words = re.sub(r"[-_\s]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:]


def _title_from_body(path: Path, body: ParsedBody) -> tuple[str, list[Block]]:
    """No front-matter title: a leading heading (or the first H1), else the first line of
    a leading plain paragraph; a body opening with code, a list or a quote keeps it whole.
    """
    blocks = body.blocks
    heading = next((b for b in blocks if isinstance(b, Heading)), None)
    if heading is not None and (heading.level == 1 or blocks[0] is heading):
        return plain(heading.content).strip(), [b for b in blocks if b is not heading]
    if body.first_line is not None and blocks and isinstance(blocks[0], Paragraph):
        line, rest = body.first_line
        title = plain(line).strip()
        if title:
            return title, [Paragraph(content=rest)] * bool(plain(rest).strip()) + blocks[1:]
    return _file_title(path), blocks


def read(path: Path, data: bytes) -> Essay:
    """Read a Markdown file; the front matter wins over anything guessed from the body."""
    meta, body = split_front_matter(path, decode_text(path, data))
    fields = metadata(path, meta)
    parsed = parse_body(path, body)
    blocks, footnotes = parsed.blocks, parsed.footnotes
    title = fields.pop("title")
    if title:
        first = blocks[0] if blocks else None
        if isinstance(first, Heading) and first.level == 1 and plain(first.content) == title:
            blocks = blocks[1:]  # the same title repeated as the first H1
    else:
        title, blocks = _title_from_body(path, parsed)
    if not blocks:
        raise ReadError(path, "the essay has no body: nothing follows the title")
    blocks, promo = split_promo(blocks)
    return Essay(
        title=title,
        blocks=blocks,
        footnotes=footnotes,
        promo=promo,
        source_format="markdown",
        **fields,
    )
