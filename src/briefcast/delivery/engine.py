"""The delivery engine: claim outbox rows, render once, send within limits, record every part.

Data flow inside one process::

    claimer ──claim batch──> lanes (one per platform: a heap ordered by "ready at")
    lane dispatcher ──token buckets ok + concurrency slot──> send task ──> transport
    send task ──outcome──> writer (group commit) ──commit──> release slot, requeue next part

Guarantees and why:

* **Once.** A row is owned by one worker (lease); every write is guarded by ``lease_owner``.
* **Crash safety.** A concurrency slot is released only after the send's outcome is committed,
  so at any instant at most ``concurrency`` sends are unrecorded: a SIGKILL can cause at most
  that many duplicates. Progress is recorded per part (``parts_sent``, ``message_ids``), so a
  restarted worker resumes a multi-part digest at the next part.
* **No head-of-line blocking.** A send waits only for the platform-wide bucket (every send
  needs it); an item whose chat bucket is busy is parked in the heap until that chat is ready,
  and other chats' items go meanwhile.
* **Database is not the bottleneck.** Claims come in batches; outcomes are written by one writer
  task that takes everything queued since its last commit (one ``executemany`` per kind).
* **Flat memory.** At most a bounded number of claimed items are held; rendered payloads are
  cached per (issue, sectors, platform, variant, language) in a small LRU and shared.

The engine core never imports ``telegram`` or ``slack_sdk``: transports translate platform
errors into :class:`~briefcast.delivery.errors.SendError`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from briefcast.config import Settings
from briefcast.delivery import corrections
from briefcast.delivery.claims import Claims
from briefcast.delivery.errors import FailureKind, SendError
from briefcast.delivery.lanes import Item, Lane, Signal, Target
from briefcast.delivery.leases import SenderLeases
from briefcast.delivery.outcomes import EngineStats, OutcomeWriter, RetryPolicy, sent
from briefcast.delivery.ratelimit import ChatLimit, RateLimits
from briefcast.delivery.rendering import Payload, Renderer, Renders, default_renderers
from briefcast.delivery.tokens import TokenFaults, fault_key
from briefcast.store import outbox
from briefcast.store.outbox import Action, Outcome, liveness

log = logging.getLogger(__name__)

WallClock = Callable[[], datetime]
Monotonic = Callable[[], float]

PAID_BROADCAST_MIN_CONCURRENCY = 128
# How often a standby engine checks whether the platform's sender lease came free.
STANDBY_POLL = 1.0


def worker_name() -> str:
    """``host:pid:random``: unique per engine, and tells an operator which process holds a lease
    (dashboard, /metrics, ``briefcast deliveries``). In Docker the host name is the container id."""
    host = socket.gethostname().split(".")[0][:48] or "host"
    return f"{host}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def send_concurrency(settings: Settings) -> int:
    """Sends in flight at once. Paid broadcast (1000 msg/s) at a ~40 ms round trip needs at least
    40 in flight just to keep up, more with jitter: the configured value is raised to 128 then."""
    n = max(1, settings.delivery.concurrency)
    if settings.telegram.paid_broadcast:
        n = max(n, PAID_BROADCAST_MIN_CONCURRENCY)
    return n


class Transport(Protocol):
    """Sends one rendered payload; returns the platform message id or raises :class:`SendError`."""

    platform: str

    async def send(self, target: Target, payload: Payload) -> str: ...

    async def close(self) -> None: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


class DeliveryEngine:
    """Claims and sends deliveries for the transports it is given. One per process is enough.

    ``clock`` (wall, for database timestamps) and ``monotonic`` (for the rate limiter) are
    injectable; ``backoff_base`` / ``idle_poll`` let tests run retries in milliseconds.
    """

    def __init__(
        self,
        settings: Settings,
        store: Any,
        transports: Mapping[str, Transport],
        *,
        owner: str | None = None,
        clock: WallClock = utcnow,
        monotonic: Monotonic = time.monotonic,
        renderers: Mapping[str, Renderer] | None = None,
        batch_size: int | None = None,
        backoff_base: float = 2.0,
        backoff_cap: float = 900.0,
        idle_poll: float = 1.0,
        rng: random.Random | None = None,
        rate_margin: float = 0.02,
    ) -> None:
        self.settings = settings
        self.store = store
        self.db = store.engine
        self.transports = dict(transports)
        self.owner = owner or worker_name()
        self.clock = clock
        self.monotonic = monotonic
        self.renderers = dict(renderers) if renderers is not None else default_renderers()
        d = settings.delivery
        self.concurrency = send_concurrency(settings)
        self.batch_size = batch_size or max(50, 2 * self.concurrency)
        self.max_held = 4 * self.batch_size
        self.lease = timedelta(seconds=d.lease_seconds)
        self.sender_ttl = timedelta(seconds=max(0.05, d.sender_lease_seconds))
        self.idle_poll = idle_poll
        self.limits = RateLimits(
            d, paid_broadcast=settings.telegram.paid_broadcast, clock=monotonic, margin=rate_margin
        )
        self.stats = EngineStats()
        self._lanes = {p: Lane(p) for p in self.transports}
        # Platforms whose sender lease this engine holds (briefcast.store.outbox.senders): it claims
        # and sends only those.
        self._leases = SenderLeases(
            self.db, self.owner, tuple(self._lanes), ttl=self.sender_ttl, monotonic=monotonic,
            on_gained=self._lease_gained, on_lost=self._lease_lost,
        )  # fmt: skip
        self._lease_signal = Signal()
        self._to_release: list[int] = []
        # The platforms we have transports for (None: all of them, the cheaper queries).
        self._served = None if set(self._lanes) >= set(outbox.PLATFORMS) else tuple(self._lanes)
        self._held: dict[int, Item] = {}
        self._seq = itertools.count()
        self._sem = asyncio.Semaphore(self.concurrency)
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._outcomes = OutcomeWriter(self.db, self.owner, clock, self._after_commit)
        self._claim_signal = Signal()
        self._idle_signal = Signal()
        self._stopping = False
        self._exhausted = False  # last claim found nothing due
        self._progress: Callable[[EngineStats], None] | None = None
        self._deadline: float | None = None
        self._heartbeat: liveness.Heartbeat | None = None
        # Bot-level faults (a revoked or mistyped token): platform -> reason. Such a platform is
        # paused, never its subscriptions.
        self._tokens = TokenFaults(monotonic, clock)
        self.faults = self._tokens.faults
        self._claims = Claims(
            self.db, self.owner, lease=self.lease, clock=clock, tokens=self._tokens,
            renders=Renders(settings, store, self.renderers), settings=settings,
        )  # fmt: skip
        self._retry = RetryPolicy(
            self.limits, self.stats, max_attempts=max(1, d.max_attempts), backoff_base=backoff_base,
            backoff_cap=backoff_cap, rng=rng or random.Random(), clock=clock,
        )  # fmt: skip

    # ------------------------------------------------------------------------------ public

    def wake(self) -> None:
        """New deliveries were enqueued: claim now instead of at the next poll."""
        self._exhausted = False
        self._claim_signal.set()
        if self._standing_by():
            self._lease_signal.set()  # a standby checks whether the sender is still there

    async def run(
        self, stop: asyncio.Event, *, progress: Callable[[EngineStats], None] | None = None
    ) -> EngineStats:
        """Deliver until ``stop`` is set; then finish in-flight sends and hand unsent claims back."""
        return await self._run(stop, drain_horizon=None, progress=progress)

    async def drain(
        self,
        *,
        wait_retries: float = 0.0,
        deadline: float | None = None,
        progress: Callable[[EngineStats], None] | None = None,
    ) -> EngineStats:
        """Deliver everything due now (and retries due within ``wait_retries`` s), then return;
        ``deadline``: return after that many seconds at the latest (unsent claims handed back)."""
        return await self._run(
            asyncio.Event(), drain_horizon=wait_retries, progress=progress, deadline=deadline
        )

    def note_reply(self, platform: str, chat_id: str, group: bool = False, workspace: str = "") -> None:
        """A message sent outside the engine with the same bot token (a command reply) used the
        same flood budget: charge it to the buckets, so the engine's own sends leave it room
        (Telegram's 30/s counts replies and broadcasts together)."""
        self.limits.take(ChatLimit(platform, (platform, workspace, chat_id), group))

    # ------------------------------------------------------------------------------ loops

    async def _run(
        self,
        stop: asyncio.Event,
        *,
        drain_horizon: float | None,
        progress: Callable[[EngineStats], None] | None,
        deadline: float | None = None,
    ) -> EngineStats:
        self._stopping = False
        self._progress = progress
        self._deadline = None if deadline is None else self.monotonic() + deadline
        self._heartbeat = liveness.Heartbeat(self.db, self.owner, self._tokens.status_text)
        await asyncio.to_thread(self._heartbeat.start)
        await asyncio.to_thread(liveness.reap, self.db)
        await asyncio.to_thread(outbox.reclaim_expired, self.db, now=liveness.real_now())
        await self._leases.refresh()
        tasks = [asyncio.create_task(self._dispatch(lane)) for lane in self._lanes.values()]
        writer = asyncio.create_task(self._outcomes.run())
        renewer = asyncio.create_task(self._claims.keep_renewed(lambda: list(self._held)))
        keeper = asyncio.create_task(self._lease_keeper())
        claimer = asyncio.create_task(self._claimer(drain_horizon))
        stop_task = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({claimer, stop_task}, return_when=asyncio.FIRST_COMPLETED)
            if claimer.done() and claimer.exception() is not None:
                raise claimer.exception()  # type: ignore[misc]
        finally:
            self._stopping = True
            for lane in self._lanes.values():
                lane.signal.set()
            self._claim_signal.set()
            for task in (claimer, *tasks):
                await _quietly(task)
            while self._in_flight or self._outcomes.unrecorded:
                self._outcomes.signal.set()
                await self._idle_signal.wait(0.05)
            writer.cancel()
            renewer.cancel()
            keeper.cancel()
            stop_task.cancel()
            for other in (writer, renewer, keeper, stop_task):
                await _quietly(other)
            unsent = list(self._held) + self._to_release
            self._to_release = []
            if unsent:
                await asyncio.to_thread(outbox.release, self.db, self.owner, unsent, now=liveness.real_now())
                self._held.clear()
            for lane in self._lanes.values():
                lane.heap.clear()
            await self._leases.release_all()
            await asyncio.to_thread(self._heartbeat.stop)
        self.stats.paused = dict(self.faults)
        return self.stats

    async def _claimer(self, drain_horizon: float | None) -> None:
        """Keep enough work claimed; in drain mode return once nothing is due or held."""
        last_reclaim = last_reap = self.monotonic()
        while not self._stopping:
            if self._deadline is not None and self.monotonic() > self._deadline:
                return  # push --wait: the deadline passed; what is left is reported
            if self.monotonic() - last_reap >= liveness.REAP_EVERY:
                last_reap = self.monotonic()
                try:
                    reaped = await asyncio.to_thread(liveness.reap, self.db)
                except Exception:
                    log.exception("checking for dead workers failed; retrying")
                else:
                    if reaped.owners:
                        self._exhausted = False
                        self._lease_signal.set()  # take a dead sender's lease now
            if self.monotonic() - last_reclaim > self.lease.total_seconds() / 2:
                last_reclaim = self.monotonic()
                await asyncio.to_thread(outbox.reclaim_expired, self.db, now=liveness.real_now())
            want = self._claim_room()
            got = 0
            if want > 0:
                try:
                    # the leased platforms are read here, on the loop that changes them
                    leased = self._sending_platforms()
                    items, skipped = await asyncio.to_thread(self._claims.claim, want, leased)
                except Exception:
                    if drain_horizon is not None:
                        raise
                    # A database hiccup must not end a long-running worker: try again shortly.
                    log.exception("claiming deliveries failed; retrying")
                    await self._claim_signal.wait(self.idle_poll * 5)
                    continue
                got = len(items) + len(skipped)
                self.stats.claimed += got
                for o in skipped:
                    self._outcomes.queue(o, None)
                for item in items:
                    self._held[item.id] = item
                    self._lanes[item.row.platform].push(self.monotonic(), next(self._seq), item)
                self._exhausted = got < want
                if got == want:
                    continue
            idle = not self._held and not self._in_flight and not self._outcomes.unrecorded
            if drain_horizon is not None and idle:
                if await asyncio.to_thread(outbox.reclaim_expired, self.db, now=liveness.real_now()):
                    continue
                # rows put back on a token fault are not waited for: push reports the pause
                due = await asyncio.to_thread(
                    outbox.next_due_at, self.db, platforms=self._served, skip_paused=bool(self.faults)
                )
                if due is None:
                    return
                wait = (due - self.clock()).total_seconds()
                if wait > drain_horizon:
                    return
                if self._standing_by():
                    wait = self.idle_poll  # standing by: the lease holder is sending these
                await self._claim_signal.wait(max(0.0, min(wait, self.idle_poll)))
                continue
            await self._claim_signal.wait(self.idle_poll)

    def _claim_room(self) -> int:
        """How many rows to claim: enough that ``batch_size`` items are ready soon, within a hard cap."""
        if len(self._held) >= self.max_held or not self._sending_platforms():
            return 0
        horizon = self.monotonic() + 1.0
        soon = sum(1 for lane in self._lanes.values() for at, _, _ in lane.heap if at <= horizon)
        soon += self._in_flight
        if soon >= self.batch_size:
            return 0
        return min(self.batch_size, self.max_held - len(self._held))

    async def _dispatch(self, lane: Lane) -> None:
        """Send the lane's items as soon as their buckets allow, bounded by the concurrency slots."""
        transport = self.transports[lane.platform]
        while not self._stopping:
            item = await lane.next_ready(self.limits, self.monotonic, lambda: self._stopping)
            if item is None:
                return
            await self._sem.acquire()
            now = self.monotonic()
            ready = self.limits.ready_at(item.limit, now)
            if ready > now or self._stopping:
                self._sem.release()
                lane.push(ready, next(self._seq), item)
                continue
            self.limits.take(item.limit, now)
            item.in_flight = True
            self._in_flight += 1
            task = asyncio.create_task(self._send(transport, lane, item))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, transport: Transport, lane: Lane, item: Item) -> None:
        payload = item.parts[item.parts_sent]
        try:
            if item.row.kind == "correction":
                message_id = await corrections.apply_part(transport, item.target, payload, item.detail)
            else:
                message_id = await transport.send(item.target, payload)
        except SendError as e:
            outcome = await self._failure(item, lane, e)
        except Exception as e:  # a transport bug: treat as transient, bounded by max attempts
            log.exception("transport %s raised unexpectedly", lane.platform)
            outcome = await self._failure(
                item, lane, SendError(FailureKind.TRANSIENT, f"{type(e).__name__}: {e}")
            )
        else:
            if self._tokens.probing:
                self._tokens.accept(fault_key(item.row))
            self.stats.parts_sent += 1
            outcome = sent(item, message_id)
        if outcome is None:  # migrated: retried at once, nothing to record
            item.in_flight = False
            self._in_flight -= 1
            self._sem.release()
            lane.push(self.monotonic(), next(self._seq), item)
            return
        self._outcomes.queue(outcome, item)

    async def _failure(self, item: Item, lane: Lane, e: SendError) -> Outcome | None:
        """Turn a failed send into the row update (or ``None`` to retry at once after a migration)."""
        row = item.row
        item.attempts += 1
        if e.kind is FailureKind.MIGRATED and e.new_chat_id and item.attempts < self._retry.max_attempts:
            self.stats.migrated += 1
            await asyncio.to_thread(
                self.store.migrate_chat, row.platform, item.target.chat_id, e.new_chat_id, row.workspace
            )
            log.info("chat %s migrated to %s", item.target.chat_id, e.new_chat_id)
            t = item.target
            item.target = Target(e.new_chat_id, t.thread_id, t.workspace, t.kind)
            item.limit = ChatLimit(
                row.platform, (row.platform, row.workspace, e.new_chat_id), item.limit.group
            )
            return None
        if e.kind is FailureKind.TOKEN:
            # the bot's fault, not the chat's: no attempt is used up, the subscription is kept
            item.attempts -= 1
            key = fault_key(row)
            self._token_fault(key, row.platform, e.reason)
            out = self._tokens.outcome(row, item.attempts, key)
            out.parts_sent, out.message_ids = item.parts_sent, tuple(item.message_ids)
            return out
        return self._retry.failed(item, e)

    def _after_commit(self, batch: list[tuple[Outcome, Item | None]]) -> None:
        for outcome, item in batch:
            self.stats.count(outcome)
            if item is None:
                continue
            item.in_flight = False
            self._in_flight -= 1
            self._sem.release()
            if outcome.action is Action.PROGRESS and not self._stopping:
                lane = self._lanes[item.row.platform]
                lane.push(self.limits.ready_at(item.limit), next(self._seq), item)
            elif outcome.action is not Action.PROGRESS:
                self._held.pop(item.id, None)
        self._claim_signal.set()
        self._idle_signal.set()
        if self._progress is not None:
            self._progress(self.stats)

    # ------------------------------------------------------------------------------ sender leases

    def _sending_platforms(self) -> tuple[str, ...]:
        now = self.monotonic()
        return tuple(p for p in self._leases.live(now) if not self._tokens.is_paused(p, now))

    def _token_fault(self, key: str, platform: str, reason: str) -> None:
        """The bot's token was refused (see :class:`~briefcast.delivery.tokens.TokenFaults`): the
        rows queued behind ``key`` are put back for later, the ones in flight finish."""
        if not self._tokens.refuse(key, reason):
            return  # already paused by another send in flight
        for item in self._lanes[platform].remove(lambda i: fault_key(i.row) == key):
            self._held.pop(item.id, None)
            self._outcomes.queue(self._tokens.outcome(item.row, item.attempts, key), None)

    def _standing_by(self) -> bool:
        """True while another worker holds the sender lease of one of our platforms."""
        return len(self._sending_platforms()) < len(self._lanes)

    def _lease_gained(self, platform: str) -> None:
        self._claim_signal.set()

    def _lease_lost(self, platform: str) -> None:
        """Another worker took over (we stalled past the lease): stop sending this platform's
        queued items; the ones in flight finish, the rest go back to the queue."""
        for item in self._lanes[platform].remove(lambda _: True):
            self._to_release.append(item.id)
            self._held.pop(item.id, None)

    async def _lease_keeper(self) -> None:
        """Renew held leases every third of their lifetime; while standing by, also look every
        :data:`STANDBY_POLL` seconds and whenever work is enqueued (``wake``), so a clean stop of
        the sender hands over within about a second."""
        renew = self.sender_ttl.total_seconds() / 3
        while True:
            await self._lease_signal.wait(min(renew, STANDBY_POLL) if self._standing_by() else renew)
            await self._leases.refresh()
            if self._to_release:
                ids, self._to_release = self._to_release, []
                try:
                    await asyncio.to_thread(outbox.release, self.db, self.owner, ids, now=liveness.real_now())
                except Exception:
                    log.exception("handing %d deliveries back failed (their lease will lapse)", len(ids))


async def _quietly(task: asyncio.Task[Any]) -> None:
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:
        log.exception("delivery task failed")


__all__ = [
    "DeliveryEngine",
    "EngineStats",
    "Payload",
    "Renderer",
    "Target",
    "Transport",
    "default_renderers",
]
