"""Light per-user anti-spam: at most N commands per sliding window.

The first command over the limit is answered once (so the user knows why the
bot went quiet); the rest are dropped silently until the window has room
again. The clock is injectable so tests can move time without sleeping.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Literal

Verdict = Literal["allow", "warn", "drop"]

# Forget idle users once the table grows past this many keys, so memory stays bounded.
_PRUNE_AT = 10_000


class RateLimiter:
    """Sliding-window limiter keyed by an opaque user key (e.g. ``"telegram:42"``)."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._warned: set[str] = set()

    def check(self, key: str) -> Verdict:
        """Record one attempt by ``key`` and say whether to serve it, warn once, or drop it."""
        if self.limit <= 0:
            return "allow"
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) < self.limit:
            hits.append(now)
            self._warned.discard(key)
            self._maybe_prune(now)
            return "allow"
        if key in self._warned:
            return "drop"
        self._warned.add(key)
        return "warn"

    def _maybe_prune(self, now: float) -> None:
        if len(self._hits) < _PRUNE_AT:
            return
        idle = [k for k, h in self._hits.items() if not h or now - h[-1] >= self.window]
        for k in idle:
            del self._hits[k]
            self._warned.discard(k)
