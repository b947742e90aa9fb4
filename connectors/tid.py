"""AT Protocol TIDs: the sortable record keys we choose ourselves, so a retry can look first.

A TID is a 64-bit integer, top bit 0, then 53 bits of microseconds since the Unix epoch,
then a 10-bit clock id, written as 13 characters of "base32-sortable"
(`234567abcdefghijklmnopqrstuvwxyz`), most significant first: string order is time order.
Keys of one publication's posts are derived from its first key (+i µs), so they can be
found again after a crash without storing each one.
"""

from __future__ import annotations

import random
import re
import threading
import time

ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_PATTERN = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_CLOCK_BITS = 10
_MAX = (1 << 63) - 1  # the top bit stays 0

_lock = threading.Lock()
_last = 0


def encode(value: int) -> str:
    """The 13-character TID text of a 63-bit integer."""
    if not 0 <= value <= _MAX:
        raise ValueError("a TID is a non-negative 63-bit integer")
    chars = []
    for _ in range(13):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def decode(tid: str) -> int:
    if not is_tid(tid):
        raise ValueError(f"not a TID: {tid!r}")
    value = 0
    for char in tid:
        value = (value << 5) | ALPHABET.index(char)
    return value


def is_tid(text: str) -> bool:
    return bool(TID_PATTERN.match(text))


def new_tid(clock_id: int | None = None) -> str:
    """A fresh TID from the current time; strictly increasing within this process."""
    global _last
    if clock_id is None:
        clock_id = random.randrange(1 << _CLOCK_BITS)
    with _lock:
        micros = max(time.time_ns() // 1000, (_last >> _CLOCK_BITS) + 1)
        value = (micros << _CLOCK_BITS) | (clock_id & ((1 << _CLOCK_BITS) - 1))
        _last = value
    return encode(value)


def later_tid(tid: str, micros: int) -> str:
    """The TID `micros` microseconds after `tid`, same clock id: a derived, sortable key."""
    if micros < 0:
        raise ValueError("a derived TID must not be earlier than its base")
    return encode(decode(tid) + (micros << _CLOCK_BITS))


def timestamp_micros(tid: str) -> int:
    return decode(tid) >> _CLOCK_BITS
