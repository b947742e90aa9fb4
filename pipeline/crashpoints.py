"""Named points where a test may kill the process, to prove crash safety phase by phase.

`CROSSPOST_CRASH_AT=name:n` kills the process with SIGKILL the n-th time (1-based) it passes
the point `name`. Unset (always, outside tests), a crashpoint costs one dict lookup.
"""

from __future__ import annotations

import os
import signal

POINTS = ("read", "planned", "before-request", "after-response", "published")
_passes: dict[str, int] = {}


def crashpoint(name: str) -> None:
    spec = os.environ.get("CROSSPOST_CRASH_AT")
    if not spec:
        return
    target, _, count = spec.partition(":")
    if target != name:
        return
    _passes[name] = _passes.get(name, 0) + 1
    if _passes[name] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
