"""How long a post is, counted the way each platform counts it.

A post the platform rejects for length is a failed publication, so every counter here errs
towards counting more, never less, where the platform's exact rule is unknown. Each rule names
its source; the facts are collected in the team's platform notes (platforms.md).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import regex

from pipeline.render.x_emoji import x_emoji_lists

# ---------------------------------------------------------------- the rule


@dataclass(frozen=True)
class LengthRule:
    """A platform's text limit and its counting function, as the platform counts.

    `max_bytes` adds a second, UTF-8 byte limit for platforms that have one (Bluesky);
    `max_links` a cap on the links one post may hold (Threads refuses a sixth).
    """

    limit: int
    count: Callable[[str], int]
    name: str = ""
    max_bytes: int | None = None
    max_links: int | None = None

    def fits(self, text: str) -> bool:
        """True when the platform will accept `text` as far as length and links go."""
        if self.max_bytes is not None and utf8_len(text) > self.max_bytes:
            return False
        if self.max_links is not None and url_count(text) > self.max_links:
            return False
        return self.count(text) <= self.limit


# ---------------------------------------------------------------- building blocks


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# Counting line by line: a composer tries many texts that differ in one line (the teaser
# shortened word by word, a hashtag dropped, a sentence added to a thread post), so while it
# composes (`counting_by_line`) each line is counted once and the counts are added up. Every
# count here adds up over lines: no grapheme cluster, URL, mention or emoji spans a line feed
# (UAX #29 breaks around it; URLs are whitespace-free tokens), and NFC never composes across
# it. A carriage return is the exception ("\r\n" is one cluster): such a text is counted whole.
_line_counts: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar(
    "line_counts", default=None
)


@contextmanager
def counting_by_line() -> Iterator[None]:
    """Within it, counts add up remembered per-line counts (forgotten at the end)."""
    token = _line_counts.set({})
    try:
        yield
    finally:
        _line_counts.reset(token)


def _per_line(count_whole: Callable[..., Any], text: str, *args: Any) -> list[Any] | None:
    """`count_whole` of each line of `text`, remembered while composing; None when the text
    is to be counted whole (outside `counting_by_line`, one line, a carriage return)."""
    memo = _line_counts.get()
    if memo is None or "\n" not in text or "\r" in text:
        return None
    counts = []
    for line in text.split("\n"):
        key = (count_whole, line, *args)
        count = memo.get(key)
        if count is None:
            count = memo[key] = count_whole(line, *args)
        counts.append(count)
    return counts


def _line_sum(count_whole: Callable[..., int], text: str, newline: int, *args: Any) -> int:
    """`count_whole(text)`, added up over lines while composing; a line feed counts `newline`."""
    counts = _per_line(count_whole, text, *args)
    if counts is None:
        return count_whole(text, *args)
    return newline * (len(counts) - 1) + sum(counts)


# Unicode 15.1 made a Devanagari/Bengali/... consonant + virama + consonant one cluster
# (rule GB9c). Ruby's each_grapheme_cluster (Mastodon, Ruby <= 3.4), the `grapheme` module
# (Mastodon.py) and `graphemer` (Bluesky's lexicon check) predate it and count two, so we
# count the conjunct joins back in: otherwise Hindi text would be undercounted.
_CONJUNCT_JOIN = regex.compile(
    r"\p{InCB=Consonant}[\p{InCB=Extend}\p{InCB=Linker}]*\p{InCB=Linker}"
    r"[\p{InCB=Extend}\p{InCB=Linker}]*(?=\p{InCB=Consonant})"
)
_CLUSTER = regex.compile(r"\X")


# Printable ASCII followed by printable ASCII is a cluster of its own (unless a Prepend
# character precedes it), so such runs are counted by length: \X is slow on long text.
_ASCII_RUN = regex.compile(r"(?<!\p{Grapheme_Cluster_Break=Prepend})[\x20-\x7E]+(?=[\x20-\x7E]|\Z)")


def graphemes(text: str) -> int:
    """Extended grapheme clusters as platforms' (pre-Unicode-15.1) segmenters see them."""
    return _line_sum(_graphemes_whole, text, 1)


def _graphemes_whole(text: str) -> int:
    """`graphemes` of a text counted at once (a line, or a text holding a carriage return)."""
    # the runs found twice rather than a Python call for each run: found in C both times
    ascii_chars = sum(map(len, _ASCII_RUN.findall(text)))
    rest = _ASCII_RUN.sub("", text)
    return ascii_chars + len(_CLUSTER.findall(rest)) + len(_CONJUNCT_JOIN.findall(rest))


# ---------------------------------------------------------------- URLs
# The shape follows twitter-text's extractor (conformance/extract.yml; Mastodon uses the same
# Ruby gem, app/lib/...extractor): a URL may not follow a letter, digit, @, $ or #; a domain is
# labels of non-punctuation characters ending in a top-level domain; a path ends on a letter,
# digit, `/ = _ - + #` or a balanced (...) group, so `. , ; : ! ? )` after it stay outside.
# twitter-text checks the TLD against IANA's list; we accept any alphabetic TLD instead, which
# errs towards treating a dotted word ("config.yaml") as a URL: X then counts 23 for it.

_PUNCT = r"!'#%&()*+,\\\-./:;<=>?@\[\]^_{|}~$"
_SPACE = r"\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
_INVALID = r"\uFFFE\uFEFF\uFFFF"
_DIRECTIONAL = r"\u202A-\u202E\u061C\u200E\u200F\u2066\u2067\u2068\u2069"
_DOMAIN_CHAR = f"[^{_PUNCT}{_SPACE}{_INVALID}{_DIRECTIONAL}]"
_LATIN_ACCENTS = (
    r"\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263"
    r"\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF"
)
_PATH_CHAR = rf"[a-z\u0400-\u04FF0-9!*';:=+,.$/%#\[\]\-\u2013_~@|&{_LATIN_ACCENTS}]"
_PARENS = rf"\((?:{_PATH_CHAR}+|{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*)\)"
_PATH_END = rf"(?:[+\-a-z\u0400-\u04FF0-9=_#/{_LATIN_ACCENTS}]|{_PARENS})"
_PATH = rf"(?:{_PATH_CHAR}*(?:{_PARENS}{_PATH_CHAR}*)*{_PATH_END}|@{_PATH_CHAR}+/)"
_TLD = r"(?:xn--[\-0-9a-z]+|[a-z]{2,63}|[^\W\d_\x00-\x7F]{2,63})(?=[^0-9a-z@+\-]|$)"
_SUBDOMAIN = rf"(?:(?:{_DOMAIN_CHAR}(?:[_-]|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\.)"
_DOMAIN_NAME = rf"(?:(?:{_DOMAIN_CHAR}(?:-|{_DOMAIN_CHAR})*)?{_DOMAIN_CHAR}\.)"

_URL = regex.compile(
    rf"(?:(?<=[{_DIRECTIONAL}])|(?<![A-Za-z0-9@＠$#＃{_INVALID}]))"
    rf"(?P<url>(?P<scheme>https?://)?(?P<domain>{_SUBDOMAIN}*{_DOMAIN_NAME}{_TLD})"
    rf"(?::[0-9]+)?(?:/{_PATH}*)?"
    r"(?:\?[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]*[a-z0-9\-_&=#/])?)",
    regex.IGNORECASE | regex.VERSION0,
)
# Without a scheme only the ASCII part of a domain links ("見てexample.com" -> example.com).
_ASCII_DOMAIN = regex.compile(
    rf"(?:[\-a-z0-9{_LATIN_ACCENTS}]+\.)+(?:xn--[\-0-9a-z]+|[a-z]{{2,63}})(?=[^0-9a-z@+\-]|$)",
    regex.IGNORECASE,
)


def _valid_host(domain: str) -> bool:
    """IDNA-encodable, as twitter-text requires: labels of 1-63 characters once punycoded."""
    try:
        domain.encode("idna")
    except UnicodeError:
        return False
    return True


_TOKEN = regex.compile(r"\S+")
_MAYBE_URL = regex.compile(r"\.(?:[^\W\d_]{2}|xn--)")  # a dot and the start of a TLD


def find_urls(text: str, bare_domains: bool = True) -> list[tuple[int, int]]:
    """Character spans of the URLs a platform would link, in order.

    `bare_domains=False` keeps only http(s) URLs, as Mastodon and Bluesky do.
    """
    spans: list[tuple[int, int]] = []
    if not _MAYBE_URL.search(text):  # no dot before a TLD anywhere (most prose): no token has one
        return spans
    # A URL has no whitespace and has a dot before its TLD: scanning only such tokens is fast.
    for token in _TOKEN.finditer(text):
        word = token.group()
        if _MAYBE_URL.search(word) and (bare_domains or "://" in word):
            spans.extend(_urls_in(text, token.start(), token.end(), bare_domains))
    return spans


def url_count(text: str) -> int:
    """How many URLs `find_urls` finds in `text`, counted line by line."""
    return _line_sum(_url_count_whole, text, 0)


def _url_count_whole(text: str) -> int:
    return len(find_urls(text))


def _urls_in(text: str, pos: int, endpos: int, bare_domains: bool) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for match in _URL.finditer(text, pos, endpos):
        start, end = match.span("url")
        domain = match.group("domain")
        if not _valid_host(domain):
            continue
        if match.group("scheme"):
            spans.append((start, end))
            continue
        if not bare_domains or (start > 0 and text[start - 1] in "-_./"):
            continue
        dstart = match.start("domain")
        found = list(_ASCII_DOMAIN.finditer(domain))
        for i, ascii_domain in enumerate(found):
            a, b = ascii_domain.span()
            # The last ASCII domain keeps the path and query that follow the domain.
            spans.append((dstart + a, end if i == len(found) - 1 else dstart + b))
    return spans


# ---------------------------------------------------------------- emoji
# One emoji sequence (UTS #51) as a reader sees it: flag pair, keycap, or pictographs with
# variation selectors, skin-tone modifiers and tag sequences, joined by ZWJ. Threads counts
# each such sequence's UTF-8 bytes. (X counts by its parsers' emoji lists instead: x_emoji.py.)
_EMOJI_ELEMENT = (
    r"(?:\p{Regional_Indicator}{2}"
    r"|[0-9#*]\uFE0F?\u20E3"
    r"|\p{Extended_Pictographic}[\uFE0F\uFE0E]?\p{Emoji_Modifier}?"
    r"(?:[\U000E0020-\U000E007E]+\U000E007F)?)"
)
_EMOJI = regex.compile(rf"{_EMOJI_ELEMENT}(?:\u200D{_EMOJI_ELEMENT})*")


# ---------------------------------------------------------------- per platform


def count_mastodon(text: str, url_length: int = 23) -> int:
    """Mastodon's StatusLengthValidator: grapheme clusters, each http(s) URL counting
    `url_length` (the instance's characters_reserved_per_url) and `@user@domain` as `@user`.
    Source: app/validators/status_length_validator.rb; docs user/posting.md.
    """
    return _line_sum(_mastodon_whole, text, 1, url_length)


def _mastodon_whole(text: str, url_length: int = 23) -> int:
    """`count_mastodon` of a text counted at once."""
    parts: list[str] = []
    last = 0
    for start, end in find_urls(text, bare_domains=False):
        parts.append(text[last:start])
        parts.append("x" * url_length)
        last = end
    parts.append(text[last:])
    countable = _REMOTE_MENTION.sub(r"\1@\2", "".join(parts))
    return graphemes(countable)


# Mastodon's mention shape: only the username part counts (docs user/posting.md).
_REMOTE_MENTION = regex.compile(r"(^|[^/\w])@([a-z0-9_]+)@[a-z0-9.\-]+[a-z0-9]+", regex.IGNORECASE)

BLUESKY_MAX_GRAPHEMES = 300  # lexicons/app/bsky/feed/post.json: text maxGraphemes
BLUESKY_MAX_BYTES = 3000  # same lexicon: text maxLength, counted in UTF-8 bytes


def count_bluesky(text: str) -> int:
    """Bluesky counts grapheme clusters (and separately bytes: see `fits_bluesky`)."""
    return graphemes(text)


def fits_bluesky(text: str) -> bool:
    return graphemes(text) <= BLUESKY_MAX_GRAPHEMES and utf8_len(text) <= BLUESKY_MAX_BYTES


# twitter-text config/v3.json: weights in hundredths; code points 0-4351, 8192-8205, 8208-8223
# and 8242-8247 weigh 100, every other code point 200; a URL counts 23, and (emoji parsing on)
# an emoji the parser knows 200.
_X_SCALE = 100
_X_DEFAULT_WEIGHT = 200
_X_URL_LENGTH = 23


_X_HEAVY = regex.compile(r"[^\u0000-\u10FF\u2000-\u200D\u2010-\u201F\u2032-\u2037]")


def _x_plain_weight(text: str) -> int:
    """Weight of text holding no URL or emoji: 100 per code point, 100 more if heavy."""
    return 100 * len(text) + (_X_DEFAULT_WEIGHT - 100) * len(_X_HEAVY.findall(text))


def x_weighted_length(text: str, emoji_parsing: bool = True) -> int:
    """twitter-text's weighted length; `emoji_parsing=False` is config v2 (pre-2018 emoji).

    With emoji parsing, the larger of the two counts twitter-text's parsers give (see
    `x_emoji_lists`): X may run either, and a post counted short is refused. For the same
    reason "\r\n" counts 2, as in twitter-text 3.1 (twitter-text-parser counts it as one "\n").
    Counted line by line (see `_line_sum`), one weight per emoji list added up, then the
    larger total kept.
    """
    text = unicodedata.normalize("NFC", text)
    per_line = _per_line(_x_weights, text, emoji_parsing)
    if per_line is None:
        weights = _x_weights(text, emoji_parsing)
    else:
        newlines = _X_SCALE * (len(per_line) - 1)
        weights = tuple(newlines + sum(column) for column in zip(*per_line, strict=True))
    return max(weights) // _X_SCALE


def _x_weights(text: str, emoji_parsing: bool) -> tuple[int, ...]:
    """The weight of NFC `text` (hundredths), once per emoji list (once without parsing)."""
    plain = _x_plain_weight(text)
    urls = [(s, e, _X_URL_LENGTH * _X_SCALE) for s, e in find_urls(text)]
    if not emoji_parsing:
        return (_x_weigh(text, plain, urls),)
    return tuple(
        _x_weigh(text, plain, urls + emoji_list.spans(text)) for emoji_list in x_emoji_lists()
    )


def _x_weigh(text: str, plain: int, entities: list[tuple[int, int, int]]) -> int:
    """`plain` (the text's weight as plain characters, in hundredths) with each entity's span
    weighed as the entity instead; an entity starting inside an earlier one is skipped, as
    twitter-text's parser jumps over the first."""
    entities.sort(key=lambda entity: (entity[0], -entity[2]))  # a URL wins a shared start
    total = plain
    position = 0
    for start, end, weight in entities:
        if start < position:
            continue
        total += weight - _x_plain_weight(text[start:end])
        position = end
    return total


def count_x(text: str) -> int:
    """X (twitter-text v3): Latin and general punctuation 1, most else 2, URL 23, emoji 2."""
    return x_weighted_length(text)


def count_threads(text: str) -> int:
    """Threads: 500 characters where an emoji counts its UTF-8 bytes (developers.facebook.com
    /docs/threads overview, "Limitations"); every other code point counts 1."""
    total = 0
    last = 0
    for match in _EMOJI.finditer(text):
        total += len(text[last : match.start()]) + utf8_len(match.group())
        last = match.end()
    return total + len(text[last:])


def count_linkedin(text: str) -> int:
    """LinkedIn: 3,000 characters (UI limit, unverified). Counted in UTF-16 code units, what
    a JavaScript length check sees; never less than code points, so the safe choice."""
    return utf16_len(text)


def count_telegram(text: str) -> int:
    """Telegram: 1-4096 characters of the text after entity parsing (Bot API sendMessage).
    Counted in UTF-16 code units, the unit Telegram's own entity offsets use; never less
    than code points, so an emoji-heavy message is split early rather than rejected."""
    return utf16_len(text)


RULES: dict[str, LengthRule] = {
    "mastodon": LengthRule(500, count_mastodon, "mastodon"),
    "bluesky": LengthRule(
        BLUESKY_MAX_GRAPHEMES, count_bluesky, "bluesky", max_bytes=BLUESKY_MAX_BYTES
    ),
    "x": LengthRule(280, count_x, "x"),
    "linkedin": LengthRule(3000, count_linkedin, "linkedin"),
    # THREADS_API__LINK_LIMIT_EXCEEDED since 2025-12-22: at most 5 links in one post
    "threads": LengthRule(500, count_threads, "threads", max_links=5),
    "telegram": LengthRule(4096, count_telegram, "telegram"),
}
