"""Token buckets that tell the engine *when* a send may go, instead of making it wait in line.

The engine never sleeps inside a bucket: it asks :meth:`RateLimits.ready_at` for the earliest
moment a send to a chat is allowed, parks the work item until then and sends other chats'
messages meanwhile (no head-of-line blocking). Only when every bucket involved is ready does it
call :meth:`RateLimits.take`, which charges all of them at once.

The platform servers count sends in *sliding windows* (Telegram: 30 per second per bot, 1 per
second per chat, 20 per minute per group). A bucket with capacity 1 spaces sends evenly, which
never exceeds a sliding window; ``margin`` stretches the spacing a little so that network jitter
between our clock and the server's arrival time cannot push two sends into one window.

A capacity of exactly 1 loses time, though: the event loop wakes a dispatcher up to a
millisecond late (epoll rounds timeouts up), and a full bucket cannot hold the token that
accrued meanwhile, so every late wake-up stretches the spacing for good (measured: 35.3 ms
median gap instead of 34.0 at 30/s, 94% of the ceiling). :func:`bank_capacity` sizes each
bucket slightly above 1 so that lateness is banked and caught up, while provably staying inside
the window: a bucket of capacity ``C`` and interval ``I`` admits at most ``C + W / I`` sends in
any ``W`` seconds, and with ``I = (W / n) * (1 + margin)`` that is below ``n + 1`` whenever
``C < 1 + n * margin / (1 + margin)``. Only a third of that headroom is banked; the rest stays
for arrival jitter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from briefcast.config import DeliverySettings

Clock = Callable[[], float]

BANK_SHARE = 1 / 3  # of the headroom a sliding window leaves above the margin-stretched rate
BANK_SECONDS = 0.003  # a late timer wake-up is ~1 ms (epoll rounds up); bank a few of them


def bank_capacity(per_window: float, margin: float, window: float = 1.0) -> float:
    """Bucket capacity for a limit of ``per_window`` sends per ``window`` seconds at ``margin``.

    Banks at most :data:`BANK_SECONDS` of lateness (what a late timer loses), and never more
    than :data:`BANK_SHARE` of the headroom ``n * m / (1 + m)`` tokens the window leaves above
    the margin-stretched rate: what is not banked stays available for arrival jitter. With the
    2% margin every limit keeps 17 ms of tolerance per 1 s window (30/s -> 1.088,
    1000/s paid -> 3.94, 1/s per chat -> 1.003, 20/min per group -> 1.001).
    """
    if per_window <= 0 or margin <= 0 or window <= 0:
        return 1.0
    headroom = per_window * margin / (1.0 + margin)
    lateness = BANK_SECONDS * per_window / (window * (1.0 + margin))
    return 1.0 + min(BANK_SHARE * headroom, lateness)


class TokenBucket:
    """``rate`` tokens per second, at most ``capacity`` stored; pausable for a platform's retry-after."""

    __slots__ = ("capacity", "interval", "paused_until", "stamp", "tokens")

    def __init__(self, rate: float, *, capacity: float = 1.0, now: float = 0.0, margin: float = 0.0) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("rate must be > 0 and capacity >= 1")
        self.interval = (1.0 / rate) * (1.0 + margin)
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = now
        self.paused_until = 0.0

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) / self.interval)
            self.stamp = now

    def ready_at(self, now: float) -> float:
        """The earliest time (>= ``now``) at which one token is available."""
        self._refill(now)
        at = now if self.tokens >= 1.0 - 1e-9 else now + (1.0 - self.tokens) * self.interval
        return max(at, self.paused_until)

    def take(self, now: float) -> None:
        """Consume one token (callers check :meth:`ready_at` first; overdraft just delays the next)."""
        self._refill(now)
        self.tokens -= 1.0

    def pause(self, until: float) -> None:
        """Allow nothing before ``until`` (a platform's retry-after), and restart from an empty bucket."""
        if until > self.paused_until:
            self.paused_until = until
            self.tokens = 0.0
            self.stamp = max(self.stamp, until - self.interval)

    def idle(self, now: float) -> bool:
        """True when the bucket is full and unpaused, so it can be forgotten (keeps memory flat)."""
        self._refill(now)
        return self.tokens >= self.capacity - 1e-9 and now >= self.paused_until


@dataclass(frozen=True, slots=True)
class ChatLimit:
    """Which buckets a send to one chat is charged to."""

    platform: str
    chat_key: Hashable
    group: bool  # Telegram groups/channels: also 20 per minute


class RateLimits:
    """All buckets of one engine: per platform (overall) and per chat (and per group).

    Chat buckets are created on demand and dropped again once idle, so memory does not grow with
    the number of subscribers.
    """

    def __init__(
        self,
        settings: DeliverySettings,
        *,
        paid_broadcast: bool = False,
        clock: Clock = time.monotonic,
        margin: float = 0.02,
    ) -> None:
        self.clock = clock
        self.margin = margin
        self._chat_rate = {
            "telegram": settings.telegram_chat_per_second,
            "slack": settings.slack_channel_per_second,
        }
        self._group_rate = settings.telegram_group_per_minute / 60.0
        now = clock()
        global_rate = (
            settings.telegram_paid_per_second if paid_broadcast else settings.telegram_global_per_second
        )
        # Banking needs the window each limit is counted in. Per chat it is assumed to be one
        # send per 1/rate seconds (Telegram: 1 per second; Slack: 1 per second per channel), the
        # strictest reading; the bot-wide limits are "n per second", groups "n per minute".
        self._chat_capacity = bank_capacity(1, margin)
        self._group_capacity = bank_capacity(settings.telegram_group_per_minute, margin, window=60.0)
        self._platform: dict[str, TokenBucket] = {
            "telegram": TokenBucket(
                global_rate, capacity=bank_capacity(global_rate, margin), now=now, margin=margin
            ),
        }
        self._chats: dict[Hashable, TokenBucket] = {}
        self._groups: dict[Hashable, TokenBucket] = {}
        self._sweep_at = now

    def _buckets(self, limit: ChatLimit, now: float, create: bool) -> list[TokenBucket]:
        out: list[TokenBucket] = []
        pb = self._platform.get(limit.platform)
        if pb is not None:
            out.append(pb)
        rate = self._chat_rate.get(limit.platform)
        if rate:
            b = self._chats.get(limit.chat_key)
            if b is None and create:
                b = self._chats[limit.chat_key] = TokenBucket(
                    rate, capacity=self._chat_capacity, now=now, margin=self.margin
                )
            if b is not None:
                out.append(b)
        if limit.group and limit.platform == "telegram" and self._group_rate > 0:
            g = self._groups.get(limit.chat_key)
            if g is None and create:
                g = self._groups[limit.chat_key] = TokenBucket(
                    self._group_rate, capacity=self._group_capacity, now=now, margin=self.margin
                )
            if g is not None:
                out.append(g)
        return out

    def ready_at(self, limit: ChatLimit, now: float | None = None) -> float:
        """Earliest monotonic time (>= ``now``) at which every bucket of this chat allows a send."""
        now = self.clock() if now is None else now
        return max((b.ready_at(now) for b in self._buckets(limit, now, create=False)), default=now)

    def platform_ready_at(self, platform: str, now: float | None = None) -> float:
        """Earliest time the platform-wide bucket allows a send (``now`` if there is none)."""
        now = self.clock() if now is None else now
        pb = self._platform.get(platform)
        return pb.ready_at(now) if pb is not None else now

    def take(self, limit: ChatLimit, now: float | None = None) -> None:
        """Charge one send to every bucket of this chat."""
        now = self.clock() if now is None else now
        for b in self._buckets(limit, now, create=True):
            b.take(now)
        if now - self._sweep_at > 10.0:
            self._sweep(now)

    def pause_chat(self, limit: ChatLimit, seconds: float) -> None:
        """Honour a chat-level retry-after: nothing to this chat before ``now + seconds``."""
        now = self.clock()
        for b in self._buckets(limit, now, create=True):
            if b is not self._platform.get(limit.platform):
                b.pause(now + seconds)

    def pause_platform(self, platform: str, seconds: float) -> None:
        """Honour a bot-wide retry-after: nothing to any chat of ``platform`` before ``now + seconds``."""
        now = self.clock()
        pb = self._platform.get(platform)
        if pb is None:
            # Platforms without an overall limit still get a bucket while paused; it never limits
            # harder than the pause because its rate is effectively unbounded.
            pb = self._platform[platform] = TokenBucket(1e9, now=now)
        pb.pause(now + seconds)

    def _sweep(self, now: float) -> None:
        self._sweep_at = now
        for table in (self._chats, self._groups):
            for key in [k for k, b in table.items() if b.idle(now)]:
                del table[key]

    def __len__(self) -> int:
        return len(self._chats) + len(self._groups)
