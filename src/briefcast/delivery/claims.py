"""Claiming work: due outbox rows taken under this engine's lease, each made an item to send or an outcome."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from briefcast.config import Settings
from briefcast.delivery.lanes import Item, Target
from briefcast.delivery.outcomes import final, quiet
from briefcast.delivery.ratelimit import ChatLimit
from briefcast.delivery.rendering import Renders, nothing_to_send
from briefcast.delivery.tokens import TokenFaults
from briefcast.store import outbox
from briefcast.store.outbox import Action, Claimed, Outcome, liveness

log = logging.getLogger(__name__)

GROUP_KINDS = frozenset({"group", "supergroup", "channel"})


class Claims:
    """Claims rows for ``owner`` and prepares them: rendered (cached), or settled at once when
    there is nothing to send (inactive, paused on a refused token, quiet hours, nothing rendered)."""

    def __init__(
        self,
        db: Any,
        owner: str,
        *,
        lease: timedelta,
        clock: Callable[[], datetime],
        renders: Renders,
        tokens: TokenFaults,
        settings: Settings,
    ) -> None:
        self.db = db
        self.owner = owner
        self.lease = lease
        self.clock = clock
        self.renders = renders
        self.tokens = tokens
        self.settings = settings

    def claim(self, limit: int, leased: tuple[str, ...]) -> tuple[list[Item], list[Outcome]]:
        """(thread) Claim rows of the ``leased`` platforms and render them; rows with nothing to
        send become outcomes."""
        if not leased:
            return [], []
        rows = outbox.claim(
            self.db,
            self.owner,
            now=self.clock(),
            lease=self.lease,
            lease_now=liveness.real_now(),
            limit=limit,
            # no filter (a cheaper query) when every platform is ours
            platforms=None if set(leased) >= set(outbox.PLATFORMS) else leased,
        )
        items: list[Item] = []
        done: list[Outcome] = []
        for row in rows:
            try:
                item = self.prepare(row)
            except Exception as e:  # a bug or a broken issue must not stop the other deliveries
                log.exception("cannot render delivery %s", row.id)
                done.append(final(row, Action.FAILED, f"render failed: {e}"))
                continue
            if isinstance(item, Outcome):
                done.append(item)
            else:
                items.append(item)
        return items, done

    def prepare(self, row: Claimed) -> Item | Outcome:
        """The item to send for ``row``, or the outcome it gets without sending."""
        if not row.active:
            return final(row, Action.SKIPPED, f"subscription inactive: {row.reason}".rstrip(": "))
        paused = self.tokens.paused_for(row)
        if paused is not None:  # its token is refused: back to the queue until the next probe
            return self.tokens.outcome(row, row.attempts, paused)
        held = quiet(row, self.settings.default_timezone, self.clock())
        if held is not None:
            return held
        parts = self.renders.parts(row)
        if not parts:
            return final(row, Action.SKIPPED, nothing_to_send(row.kind))
        group = row.platform == "telegram" and (row.chat_kind in GROUP_KINDS or row.chat_id.startswith("-"))
        return Item(
            row=row,
            parts=parts,
            target=Target(row.chat_id, row.thread_id, row.workspace, row.chat_kind),
            limit=ChatLimit(row.platform, (row.platform, row.workspace, row.chat_id), group),
            parts_sent=min(row.parts_sent, len(parts)),
            message_ids=list(row.message_ids),
            attempts=row.attempts,
            detail=list(row.detail),
        )

    async def keep_renewed(self, held: Callable[[], list[int]]) -> None:
        """Extend the leases of the ``held`` rows well before they expire (runs until cancelled)."""
        period = max(0.05, self.lease.total_seconds() / 3)
        while True:
            await asyncio.sleep(period)
            ids = held()
            if ids:
                try:
                    await asyncio.to_thread(
                        outbox.renew, self.db, self.owner, ids, until=liveness.real_now() + self.lease
                    )
                except Exception:
                    log.exception("lease renewal failed")
