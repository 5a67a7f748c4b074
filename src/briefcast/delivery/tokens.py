"""Bot-level faults: a platform (or Slack workspace) whose token is refused is paused, probed with backoff."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from briefcast.store import outbox
from briefcast.store.outbox import Action, Claimed, Outcome

log = logging.getLogger(__name__)

# A platform whose token is refused is probed again after 5 s, 10 s, ... up to 5 minutes.
TOKEN_PROBE_FIRST = 5.0
TOKEN_PROBE_MAX = 300.0
PAUSED_PREFIX = outbox.PAUSED_PREFIX


def fault_key(row: Claimed) -> str:
    """What a refused token pauses: ``telegram``, ``slack`` or ``slack:TEAM`` (one workspace's token)."""
    return f"slack:{row.workspace}" if row.platform == "slack" and row.workspace else row.platform


class TokenFaults:
    """The keys paused on a refused token: why (``faults``), until when (monotonic), how often in a row.

    Such a key is paused, never its subscriptions; its rows go back to the queue until the next probe.
    """

    def __init__(self, monotonic: Callable[[], float], clock: Callable[[], datetime]) -> None:
        self.monotonic = monotonic
        self.clock = clock
        self.faults: dict[str, str] = {}
        self._paused: dict[str, float] = {}
        self._streak: dict[str, int] = {}

    @property
    def probing(self) -> bool:
        """True while some key has failed and not yet been seen to work again."""
        return bool(self._streak)

    def is_paused(self, key: str, now: float) -> bool:
        return self._paused.get(key, 0.0) > now

    def paused_for(self, row: Claimed) -> str | None:
        """The paused key ``row`` would be sent with, if any."""
        now = self.monotonic()
        for key in (row.platform, fault_key(row)):
            if self.is_paused(key, now):
                return key
        return None

    def outcome(self, row: Claimed, attempts: int, key: str) -> Outcome:
        """``row`` back to the queue until ``key``'s next probe (no attempt counted by the caller)."""
        wait = max(0.0, self._paused.get(key, 0.0) - self.monotonic())
        return Outcome(
            row.id, Action.RETRY, parts_total=row.parts_total, parts_sent=row.parts_sent,
            message_ids=row.message_ids, attempts=attempts,
            error=f"{PAUSED_PREFIX} {key} refused the bot token ({self.faults.get(key, '')})",
            next_attempt_at=self.clock() + timedelta(seconds=wait),
        )  # fmt: skip

    def refuse(self, key: str, reason: str) -> bool:
        """The bot's token was refused: every chat behind ``key`` would fail alike, so ``key`` is
        paused and probed again with backoff. False if it already was (another send in flight)."""
        now = self.monotonic()
        if self.is_paused(key, now):
            return False
        streak = self._streak.get(key, 0)
        pause = float(min(TOKEN_PROBE_MAX, TOKEN_PROBE_FIRST * 2**streak))
        self._streak[key] = streak + 1
        if key not in self.faults:
            log.error(
                "%s refused the bot token (%s): sending there is paused, no subscription is "
                "changed; probing again in %.0f s",
                key,
                reason,
                pause,
            )
        self.faults[key] = reason
        self._paused[key] = now + pause
        return True

    def accept(self, key: str) -> None:
        """A send with ``key``'s token worked: it is no longer paused."""
        if key in self.faults:
            log.warning("%s accepts the bot token again: sending resumes", key)
            self.faults.pop(key, None)
        self._paused.pop(key, None)
        self._streak.pop(key, None)

    def status_text(self) -> str:
        """Stored with each heartbeat: the platforms paused on a token fault (dashboard, doctor)."""
        return "; ".join(f"paused {p}: {why}" for p, why in sorted(self.faults.items()))
