"""Which emoji X's counter weighs as one (2), and which it counts code point by code point.

twitter-text counts an emoji as 2 only when its parser's emoji list has that exact sequence;
anything else (a sequence newer than the list, or one missing a variation selector the list
has) counts as its parts: each pictograph or skin tone 2, each ZWJ 1, each variation selector
2. So ❤️‍🔥 (Emoji 13.1) counts 5, and a title full of them counts far more than it looks.

Two parsers are in use, with different lists:
- twitter-text-parser (PyPI) reads Unicode's emoji-test.txt of Emoji 12.0: every sequence
  listed there (fully-, minimally- and unqualified), components (skin tones, hair) excepted;
- twitter-text 3.1 (npm, the official JavaScript library) uses twemoji-parser 11: the
  sequences of Emoji 11.0 and earlier, a single code point or a ZWJ sequence only when
  fully-qualified (© without VS16 counts 1, ⛹‍♀ without its VS16s 5), except ♾️, which it
  lacks, and 👁‍🗨, which it spells without VS16s.
We weigh a text with both lists and keep the larger count (`lengths.x_weighted_length`).
The lists are rebuilt from the `emoji` package's data (its status and Emoji version per
sequence); the test suite checks them against both parsers.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

_COMPONENT, _FULLY_QUALIFIED = 1, 2
# twemoji-parser 11's exceptions to that rule (found by comparing every sequence with
# twitter-text 3.1): it spells the eye in a speech bubble without VS16s, and lacks ♾.
_EYE_IN_BUBBLE = "\U0001f441\u200d\U0001f5e8"
_MISSING_FROM_TWEMOJI_11 = frozenset({"\U0001f441\ufe0f\u200d\U0001f5e8\ufe0f", "\u267e\ufe0f"})


@dataclass(frozen=True)
class EmojiList:
    """A parser's emoji list, matched as its regex does: at each position the longest listed
    sequence, else a listed single code point."""

    name: str
    sequences: frozenset[str]
    singles: frozenset[str]
    _lengths: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    _starts: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _start_chars: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lengths: dict[str, set[int]] = {}
        for sequence in self.sequences:
            lengths.setdefault(sequence[0], set()).add(len(sequence))
        object.__setattr__(
            self, "_lengths", {c: tuple(sorted(ls, reverse=True)) for c, ls in lengths.items()}
        )
        starts = frozenset(lengths) | self.singles
        object.__setattr__(self, "_start_chars", starts)
        # Every listed sequence that starts in ASCII is a keycap (digit, # or *, then VS16 or
        # U+20E3): looking ahead for those keeps ordinary digits from being tried one by one.
        ascii_starts = "".join(re.escape(c) for c in sorted(c for c in starts if c < "\x80"))
        pattern = _char_class(c for c in starts if c >= "\x80")
        if ascii_starts:
            pattern += f"|[{ascii_starts}](?=[\ufe0f\u20e3])"
        object.__setattr__(self, "_starts", re.compile(pattern))  # re scans classes faster

    def spans(self, text: str, weight: int = 200) -> list[tuple[int, int, int]]:
        """(start, end, weight) of each emoji the parser finds in `text`, left to right."""
        found: list[tuple[int, int, int]] = []
        position = 0
        while match := self._starts.search(text, position):
            start = match.start()
            if text[start] not in self._start_chars:
                position = start + 1
                continue
            for length in self._lengths.get(text[start], ()):
                if text[start : start + length] in self.sequences:
                    found.append((start, start + length, weight))
                    position = start + length
                    break
            else:
                if text[start] in self.singles:
                    found.append((start, start + 1, weight))
                position = start + 1
        return found


def _char_class(chars: Iterable[str], gap: int = 256) -> str:
    """A regex character class covering `chars` in few ranges: code points less than `gap`
    apart share a range, so a regex engine checks a handful of ranges, not hundreds. The
    class may take in a few other characters: callers check each hit."""
    ranges: list[list[int]] = []
    for point in sorted(ord(c) for c in chars):
        if ranges and point - ranges[-1][1] < gap:
            ranges[-1][1] = point
        else:
            ranges.append([point, point])
    return "[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]"


def _build(name: str, keep: Callable[[str, dict], bool]) -> EmojiList:
    from emoji import EMOJI_DATA  # ~0.1 s to import: only when X text is first counted

    sequences: set[str] = set()
    singles: set[str] = set()
    for text, data in EMOJI_DATA.items():
        if data["status"] == _COMPONENT or not keep(text, data):
            continue
        (singles if len(text) == 1 else sequences).add(text)
    return EmojiList(name, frozenset(sequences), frozenset(singles))


@functools.cache
def x_emoji_lists() -> tuple[EmojiList, EmojiList]:
    """twitter-text-parser's list (Emoji 12.0) and twitter-text 3.1's (twemoji-parser 11)."""
    emoji_12 = _build("emoji-test 12.0", lambda text, data: data["E"] <= 12.0)
    twemoji_11 = _build(
        "twemoji-parser 11",
        lambda text, data: (
            text == _EYE_IN_BUBBLE
            or (
                data["E"] <= 11.0
                and (data["status"] == _FULLY_QUALIFIED or (len(text) > 1 and "\u200d" not in text))
                and text not in _MISSING_FROM_TWEMOJI_11
            )
        ),
    )
    return emoji_12, twemoji_11
