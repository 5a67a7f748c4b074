"""The engine's hold on the per-platform sender leases: taken, renewed, lost and given back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from briefcast.store.outbox import liveness, senders

log = logging.getLogger(__name__)


class SenderLeases:
    """Which of ``platforms`` this engine may send to (see :mod:`briefcast.store.outbox.senders`).

    ``held`` maps a platform to the monotonic deadline past which its lease is presumed lost.
    ``on_gained`` / ``on_lost`` are called (on the event loop) when a lease is taken or lost.
    """

    def __init__(
        self,
        db: Any,
        owner: str,
        platforms: Sequence[str],
        *,
        ttl: timedelta,
        monotonic: Callable[[], float],
        on_gained: Callable[[str], None],
        on_lost: Callable[[str], None],
    ) -> None:
        self.db = db
        self.owner = owner
        self.platforms = tuple(platforms)
        self.ttl = ttl
        self.monotonic = monotonic
        self.on_gained = on_gained
        self.on_lost = on_lost
        self.held: dict[str, float] = {}
        self._standby_logged: set[str] = set()

    def live(self, now: float) -> list[str]:
        """The platforms whose lease is held and not presumed lost at ``now``."""
        return [p for p, deadline in self.held.items() if deadline > now]

    async def refresh(self) -> None:
        """Take or renew the sender lease of every platform this engine has a transport for."""
        for platform in self.platforms:
            started = self.monotonic()
            try:
                held = await asyncio.to_thread(
                    senders.acquire,
                    self.db,
                    platform,
                    self.owner,
                    now=liveness.real_now(),
                    ttl=self.ttl,
                )
            except Exception:
                # The database is away: keep sending while our last renewal is still valid.
                log.exception("renewing the %s sender lease failed", platform)
                held = None
            if held is None:
                if platform in self.held and self.held[platform] <= self.monotonic():
                    self._lose(platform)
            elif held:
                gained = platform not in self.held
                if gained:
                    log.info("sending to %s (sender lease %s)", platform, self.owner)
                # A small safety margin: renewals are stamped by the caller's clock.
                self.held[platform] = started + self.ttl.total_seconds() * 0.9
                if gained:
                    self.on_gained(platform)
            elif platform in self.held:
                self._lose(platform)
            elif platform not in self._standby_logged:
                self._standby_logged.add(platform)
                log.info("standing by for %s: another worker holds its sender lease", platform)

    def _lose(self, platform: str) -> None:
        log.warning("lost the %s sender lease; handing queued deliveries back", platform)
        self.held.pop(platform, None)
        self.on_lost(platform)

    async def release_all(self) -> None:
        """Give every held lease back (a clean stop hands over at once)."""
        for platform in list(self.held):
            try:
                await asyncio.to_thread(
                    senders.release, self.db, platform, self.owner, now=liveness.real_now()
                )
            except Exception:
                log.exception("giving the %s sender lease back failed (it will lapse)", platform)
        self.held.clear()
