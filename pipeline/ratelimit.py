"""Per-target request limits, kept before the platform has to say 429.

A platform's documented limit (Mastodon: 300 requests per 5 minutes per token) is a
connector class fact, `rate_limit = (requests, seconds)`, and a target may override it in
settings (`rate_limit = [30, 3]`). The publisher asks `admit` before a publication's
requests go out: either the requests fit the sliding window now (they are counted and the
answer is 0), or the answer is how many seconds to wait, and the engine reschedules the
publication to then instead of sleeping a worker thread.

Why a sliding window: at most N requests in *any* W seconds also keeps N per aligned fixed
window (Mastodon's Rack::Attack). The window is stretched by a small margin so the time a
request spends on the wire cannot push two of them into one platform window. Waiting
publications get spread-out estimated times (a virtual queue), so a backlog does not wake
all at once only to be deferred again; admission itself looks at requests actually sent.

The count lives in this process, seeded when a target is first used from what earlier
processes sent (`history`, read from the store): a daemon restarted after a crash must not
forget the posts that still count against the platform's window. With several publisher
processes on one account, give each its share (`rate_limit = [limit / N, seconds]`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.settings import Settings

MARGIN = 0.01  # the window is 1 % longer than the platform's ...
SLACK_SECONDS = 0.05  # ... plus 50 ms, for time on the wire

Limit = tuple[int, float]


@dataclass
class Window:
    limit: int
    seconds: float
    sent: list[float] = field(default_factory=list)  # send times, ascending
    waiting: dict[int, tuple[float, int]] = field(default_factory=dict)  # pub -> (slot, cost)
    blocked_until: float = 0.0

    @property
    def span(self) -> float:
        return self.seconds * (1 + MARGIN) + SLACK_SECONDS

    def prune(self, now: float) -> None:
        cut = now - self.span
        drop = 0
        while drop < len(self.sent) and self.sent[drop] <= cut:
            drop += 1
        if drop:
            del self.sent[:drop]
        for key, (at, _) in list(self.waiting.items()):
            if at + self.span < now:  # its publication went elsewhere (cancelled, failed)
                del self.waiting[key]

    def earliest(self, times: list[float], cost: int, now: float) -> float:
        """FIFO placement after `times`: the first moment the window has room for `cost`."""
        room = max(1, self.limit - cost + 1)  # a cost above the limit goes alone
        at = max(now, times[-1]) if times and times[-1] > now else now
        if len(times) >= room:
            at = max(at, times[-room] + self.span)
        return at


class RateLimits:
    """Sliding windows per target; thread-safe, one instance per publisher process."""

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], datetime],
        history: Callable[[str, float], list[float]] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.history = history  # (target, seconds) -> send times (epoch) in that window
        self.lock = threading.Lock()
        self.windows: dict[str, Window | None] = {}
        self.held: dict[str, float] = {}  # targets without a limit of ours, after a 429

    def limit_for(self, target: str) -> Limit | None:
        """The target's override in settings, else its connector's documented limit."""
        from connectors import connector_class

        settings = self.settings.targets.get(target)
        if settings is None:
            return None
        if settings.rate_limit is not None:
            count, seconds = settings.rate_limit
            return int(count), float(seconds)
        documented = connector_class(settings.platform).rate_limit
        return (int(documented[0]), float(documented[1])) if documented else None

    def _window(self, target: str) -> Window | None:
        if target not in self.windows:
            limit = self.limit_for(target)
            window = Window(*limit) if limit else None
            if window and self.history:
                window.sent = sorted(self.history(target, window.span))
            self.windows[target] = window
        return self.windows[target]

    def admit(self, target: str, cost: int = 1, key: int | None = None) -> float:
        """0 and the requests are counted as sent now; or seconds until they would fit."""
        with self.lock:
            window = self._window(target)
            if window is None:
                return max(0.0, self.held.get(target, 0.0) - self.clock().timestamp())
            now = self.clock().timestamp()
            window.prune(now)
            queued = key is not None and window.waiting.pop(key, None) is not None
            if now < window.blocked_until:
                return self._queue(window, cost, key, window.blocked_until)
            free = window.earliest(window.sent, cost, now)
            if free <= now:
                window.sent.extend([now] * cost)
                return 0.0
            if queued:  # its turn came, but sends ran late: keep its place, retry when free
                window.waiting[key] = (free, cost)
                return max(0.001, free - now)  # at least a clock tick, so time moves on
            return self._queue(window, cost, key, now)

    def _queue(self, window: Window, cost: int, key: int | None, now: float) -> float:
        """An estimated slot behind the requests sent and the publications already waiting."""
        planned = sorted(
            [*window.sent, *(at for at, n in window.waiting.values() for _ in range(n))]
        )
        at = window.earliest(planned, cost, now)
        if key is not None:
            window.waiting[key] = (at, cost)
        return max(0.001, at - self.clock().timestamp())

    def block(self, target: str, seconds: float) -> None:
        """The platform said 429 anyway (another client on the account): hold the target."""
        with self.lock:
            window = self._window(target)
            until = self.clock().timestamp() + max(0.0, seconds)
            if window is not None:
                window.blocked_until = max(window.blocked_until, until)
            else:  # no documented limit, but the platform has one: wait as it asked
                self.held[target] = max(self.held.get(target, 0.0), until)
