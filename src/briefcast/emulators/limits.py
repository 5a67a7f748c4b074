"""Rate-limit, clock and fault-injection machinery shared by the fake platform servers.

The fakes must push back the way Telegram and Slack do (429 with an honest retry-after), but
tests must not wait real seconds to see it. So every limiter reads time from an injectable
clock: production-like runs use :func:`time.monotonic`, tests use :class:`ManualClock` and
move time forward explicitly.

Two shapes of limit exist on the platforms:

* a *sliding window* ("at most N sends in any W seconds") — used for Telegram's per-bot,
  per-private-chat and per-group limits;
* a *token bucket* ("R per second on average, with a small burst") — used for Slack's
  ``chat.postMessage`` per-channel limit, whose documentation explicitly tolerates short bursts.

Rejected attempts never consume capacity: a client that backs off as told will get through.

Platforms count a request when it *arrives*; the fakes' simulated latency comes after. So the
fake stamps each request on arrival (:data:`ARRIVAL`, set by the server's middleware before the
latency sleep) and :class:`Limiter` judges it at that stamp, not at whatever later moment the
fake's event loop gets round to the handler. Requests can therefore be judged out of arrival
order; the rules below accept that.
"""

from __future__ import annotations

import bisect
import contextvars
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "Clock",
    "Fault",
    "FaultPlan",
    "LimitCheck",
    "Limiter",
    "ManualClock",
    "SlidingWindow",
    "TokenBucket",
    "retry_after_seconds",
]

Clock = Callable[[], float]
"""A monotonic time source in seconds (``time.monotonic`` or a :class:`ManualClock`)."""

ARRIVAL: contextvars.ContextVar[float | None] = contextvars.ContextVar("fake_request_arrival", default=None)


def arrival(clock: Callable[[], float]) -> float:
    """When the request being handled reached the server (``clock()`` outside a request): the
    instant its limits judge, and the time a recorded message carries."""
    stamp = ARRIVAL.get()
    return clock() if stamp is None else stamp


"""When the request being handled reached the fake (on the fake's clock); ``None`` outside one."""


class ManualClock:
    """A clock that only moves when told to, so limit tests need no real waiting.

    Thread-safe: a fake running in a background thread may read it while the test advances it.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += seconds
            return self._now


def retry_after_seconds(wait: float) -> int:
    """The whole number of seconds a platform would announce for a wait of ``wait`` seconds.

    Both platforms speak whole seconds and never say 0 for a rejected request, so round up and
    clamp to at least 1.
    """
    return max(1, math.ceil(wait - 1e-9))


class _Rule(Protocol):
    """A per-key limit that can be checked without side effects and then committed."""

    def wait_time(self, key: Hashable, now: float) -> float:
        """Seconds until one more event for ``key`` is allowed (0 when allowed now)."""
        ...

    def record(self, key: Hashable, now: float) -> None:
        """Consume capacity for one event for ``key``."""
        ...


class SlidingWindow:
    """At most ``limit`` events per key in any window of ``window`` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._events: dict[Hashable, deque[float]] = {}

    def _prune(self, key: Hashable, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def wait_time(self, key: Hashable, now: float) -> float:
        events = self._prune(key, now)
        count = bisect.bisect_right(events, now)  # later arrivals, judged earlier, are not before us
        if count < self.limit:
            return 0.0
        # The slot frees when the oldest event that keeps us at the limit leaves the window.
        return events[count - self.limit] + self.window - now

    def record(self, key: Hashable, now: float) -> None:
        bisect.insort(self._prune(key, now), now)  # kept sorted: arrivals may be judged out of order


class TokenBucket:
    """``rate`` events per second on average, with up to ``burst`` extra events back to back.

    Capacity is ``1 + burst`` tokens; a bucket starts full.
    """

    def __init__(self, rate: float, burst: int = 0) -> None:
        if rate <= 0 or burst < 0:
            raise ValueError("rate must be > 0 and burst >= 0")
        self.rate = rate
        self.capacity = 1.0 + burst
        self._state: dict[Hashable, tuple[float, float]] = {}

    def _tokens(self, key: Hashable, now: float) -> float:
        tokens, last = self._state.get(key, (self.capacity, now))
        return min(self.capacity, tokens + max(0.0, now - last) * self.rate)

    def wait_time(self, key: Hashable, now: float) -> float:
        tokens = self._tokens(key, now)
        if tokens >= 1.0 - 1e-9:
            return 0.0
        return (1.0 - tokens) / self.rate

    def record(self, key: Hashable, now: float) -> None:
        last = self._state.get(key, (0.0, now))[1]
        self._state[key] = (self._tokens(key, now) - 1.0, max(now, last))


@dataclass(frozen=True)
class LimitCheck:
    """The outcome of :meth:`Limiter.acquire`: allowed, or which rule refused and for how long."""

    allowed: bool
    wait: float = 0.0
    rule: str = ""

    @property
    def retry_after(self) -> int:
        """Whole seconds to announce to the client (only meaningful when not allowed)."""
        return retry_after_seconds(self.wait)


class Limiter:
    """Named rules checked together: an event is admitted only if every applicable rule allows it.

    All rules are checked before any is charged, so a refused event costs nothing.
    """

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.enabled = True
        self._rules: dict[str, _Rule] = {}
        self._lock = threading.Lock()
        self.rejections: dict[str, int] = {}

    def add_rule(self, name: str, rule: _Rule) -> None:
        """Register (or replace) a rule under ``name``."""
        with self._lock:
            self._rules[name] = rule

    def acquire(self, keys: Sequence[tuple[str, Hashable]]) -> LimitCheck:
        """Admit one event charged to each ``(rule_name, key)`` pair, or report the longest wait."""
        if not self.enabled:
            return LimitCheck(True)
        with self._lock:
            now = arrival(self.clock)
            worst = LimitCheck(True)
            for name, key in keys:
                rule = self._rules.get(name)
                if rule is None:
                    continue
                wait = rule.wait_time(key, now)
                if wait > 0 and wait > worst.wait:
                    worst = LimitCheck(False, wait, name)
            if not worst.allowed:
                self.rejections[worst.rule] = self.rejections.get(worst.rule, 0) + 1
                return worst
            for name, key in keys:
                rule = self._rules.get(name)
                if rule is not None:
                    rule.record(key, now)
            return worst


@dataclass
class Fault:
    """One injected failure: answer ``method`` (optionally only for one chat/channel) with an error.

    ``body`` is the platform-specific JSON error body; ``headers`` are extra HTTP headers (for
    example Slack's ``Retry-After``); ``delay`` holds the response back first (to provoke client
    timeouts); ``passthrough`` means "after the delay, handle the request normally".
    """

    method: str
    status: int
    body: Mapping[str, Any]
    remaining: int = 1
    target: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    passthrough: bool = False


class FaultPlan:
    """A thread-safe queue of :class:`Fault` rules consumed by matching requests, oldest first."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        """Queue a fault; it fires for the next ``fault.remaining`` matching requests."""
        if fault.remaining < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._faults.append(fault)

    def take(self, method: str, target: str | None) -> Fault | None:
        """Consume and return the first fault matching this request, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.method not in (method, "*"):
                    continue
                if fault.target is not None and fault.target != target:
                    continue
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._faults.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)
