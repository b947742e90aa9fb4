"""A publication's states and the moves between them: plain data, no SQL, no I/O.

```
planned ──(dependency has a URL)──▶ scheduled ──claim──▶ publishing ──▶ published
   ▲                                  ▲    │                 │  ├──▶ failed
   └──────── retry (waits again) ─────┘    │                 │  ├──▶ awaiting-manual
                                           │                 │  └──▶ cancelled (target removed)
                                           │                 └──▶ scheduled (retry later, deferred,
                                           └──▶ cancelled         held, storage, given back, reaped)
```
`TRANSITIONS` is the whole table: the store refuses a release whose outcome is not a move
out of `publishing`, and each operator step declares the states it works on (`STEPS`), which
a test checks against the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class State(StrEnum):
    PLANNED = "planned"  # waiting for another target (its URL or its due time)
    SCHEDULED = "scheduled"  # due at `due_at`
    PUBLISHING = "publishing"  # claimed by a publisher; requests may be under way
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"
    AWAITING_MANUAL = "awaiting-manual"  # prepared for a person (Patreon hand-off)


OPEN_STATES = frozenset({State.PLANNED, State.SCHEDULED, State.PUBLISHING})

TRANSITIONS: Mapping[State, frozenset[State]] = {
    # released when the dependency has a URL; an operator may move or cancel it
    State.PLANNED: frozenset({State.SCHEDULED, State.CANCELLED}),
    # claimed; retried, moved or held again in place; cancelled
    State.SCHEDULED: frozenset({State.PUBLISHING, State.SCHEDULED, State.PLANNED, State.CANCELLED}),
    # every outcome of one attempt (see publishing/outcomes.py)
    State.PUBLISHING: frozenset(
        {
            State.PUBLISHED,
            State.SCHEDULED,
            State.FAILED,
            State.AWAITING_MANUAL,
            State.CANCELLED,
        }
    ),
    # an edited essay updates its published copies in place
    State.PUBLISHED: frozenset({State.SCHEDULED}),
    State.FAILED: frozenset({State.SCHEDULED, State.PLANNED, State.CANCELLED, State.PUBLISHED}),
    State.CANCELLED: frozenset({State.SCHEDULED, State.PLANNED}),
    State.AWAITING_MANUAL: frozenset({State.PUBLISHED, State.CANCELLED}),
}

# operator step -> (the states it works on, the states it may leave the publication in)
STEPS: Mapping[str, tuple[frozenset[State], frozenset[State]]] = {
    "retry": (
        frozenset({State.FAILED, State.SCHEDULED, State.CANCELLED}),
        frozenset({State.SCHEDULED, State.PLANNED}),
    ),
    "cancel": (
        frozenset({State.PLANNED, State.SCHEDULED, State.FAILED, State.AWAITING_MANUAL}),
        frozenset({State.CANCELLED}),
    ),
    "reschedule": (
        frozenset({State.SCHEDULED, State.FAILED, State.PLANNED, State.CANCELLED}),
        frozenset({State.SCHEDULED}),
    ),
    "confirm": (
        frozenset({State.AWAITING_MANUAL, State.FAILED}),
        frozenset({State.PUBLISHED}),
    ),
}


def may_move(source: State, target: State) -> bool:
    """Is `source -> target` a move the lifecycle allows?"""
    return target in TRANSITIONS[source]


def works_on(step: str) -> frozenset[State]:
    """The states an operator step works on (what its refusal names)."""
    return STEPS[step][0]


@dataclass(frozen=True)
class Change:
    """One move of a claimed publication, as the store's `release` applies it: the new
    state, the columns it sets, the event it appends. Plain data; outcomes make it."""

    state: State
    event: str
    values: Mapping[str, object] = field(default_factory=dict)
    data: Mapping[str, object] = field(default_factory=dict)
    gives_back_attempt: bool = False  # nothing was sent: the claim's attempt does not count
