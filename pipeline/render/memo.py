"""Each format rendered once per essay: results remembered by the identity of their inputs.

Five destinations render the same blog blocks as HTML (WordPress, Ghost, Patreon, the static
site, Medium), two as Markdown; each calls the renderer with a list it just built from the
essay. The lists are new, the blocks in them are not: so a result is keyed by the ids of the
blocks (and of the footnotes, the related links...) and shared by every caller that passes the
same objects, whatever list holds them.

Why identity is enough: the essay models are frozen (pipeline/document.py) and readers fill
their lists only while building an essay, so the same objects always render the same way; a
changed essay (`model_copy(update=...)`, an outline's re-levelled copy) is made of new objects
where it differs. An entry keeps the objects its key names alive, so no id in a key can be
reused by another object while the entry lives; entries are few and the oldest go first
(sharing happens between one essay's destinations, rendered one after another; keeping many
essays' blocks alive made every garbage collection longer and a run of essays slower).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
_SCALARS = (str, int, float, bool, type(None))


def _key_of(value: Any) -> Any:
    """A sequence by the ids of its items, a scalar by value, anything else by its id."""
    if isinstance(value, list | tuple):
        return tuple(map(id, value))
    if isinstance(value, _SCALARS):
        return value
    return id(value)


def _kept(value: Any) -> Any:
    """What an entry holds on to so the ids in its key stay taken."""
    return tuple(value) if isinstance(value, list | tuple) else value


def by_identity(size: int = 8) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Remember `fn`'s last `size` results, keyed by the identity of its arguments.

    Only for pure functions of frozen inputs whose result callers do not change: a list
    result is handed out as a fresh shallow copy, a string as it is.
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        entries: OrderedDict[tuple[Any, ...], tuple[Any, R]] = OrderedDict()
        lock = threading.Lock()

        @wraps(fn)
        def remembered(*args: P.args, **kwargs: P.kwargs) -> R:
            key = (
                tuple(_key_of(a) for a in args),
                tuple((name, _key_of(v)) for name, v in sorted(kwargs.items())),
            )
            with lock:
                hit = entries.get(key)
                if hit is not None:
                    entries.move_to_end(key)
            if hit is None:
                result = fn(*args, **kwargs)
                kept = (tuple(_kept(a) for a in args), tuple(_kept(v) for v in kwargs.values()))
                with lock:
                    entries[key] = (kept, result)
                    while len(entries) > size:
                        entries.popitem(last=False)
            else:
                result = hit[1]
            return list(result) if isinstance(result, list) else result  # type: ignore[return-value]

        return remembered

    return decorate
