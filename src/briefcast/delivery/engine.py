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
import heapq
import itertools
import logging
import os
import random
import socket
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from briefcast.archive.urls import issue_url
from briefcast.config import Settings
from briefcast.delivery import corrections
from briefcast.delivery.errors import FailureKind, SendError
from briefcast.delivery.ratelimit import ChatLimit, RateLimits
from briefcast.render.document import Document
from briefcast.render.options import apply_delivery_options
from briefcast.store import outbox
from briefcast.store.outbox import Action, Claimed, Outcome, liveness, senders
from briefcast.store.records import StoredIssue

log = logging.getLogger(__name__)

Payload = Mapping[str, Any]
Renderer = Callable[[Document], list[dict[str, Any]]]
WallClock = Callable[[], datetime]
Monotonic = Callable[[], float]

GROUP_KINDS = frozenset({"group", "supergroup", "channel"})


@dataclass(frozen=True, slots=True)
class Target:
    """Where a transport sends: the platform chat id, optional thread/topic, Slack workspace."""

    chat_id: str
    thread_id: str = ""
    workspace: str = ""
    kind: str = ""


PAID_BROADCAST_MIN_CONCURRENCY = 128
# How often a standby engine checks whether the platform's sender lease came free.
STANDBY_POLL = 1.0
# A platform whose token is refused is probed again after 5 s, 10 s, ... up to 5 minutes.
TOKEN_PROBE_FIRST = 5.0
TOKEN_PROBE_MAX = 300.0
PAUSED_PREFIX = outbox.PAUSED_PREFIX


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


def default_renderers() -> dict[str, Renderer]:
    """The platform renderers (pure functions Document -> payloads)."""
    from briefcast.render import slack, telegram

    return {"telegram": telegram.render, "slack": slack.render}


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class EngineStats:
    """Counters since the engine started (progress bars, benchmarks, ``drain`` results)."""

    parts_sent: int = 0
    delivered: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    deactivated: int = 0
    rate_limited: int = 0
    migrated: int = 0
    claimed: int = 0
    # platform -> reason, for platforms paused on a bot-level (token) fault when the engine stopped
    paused: dict[str, str] = field(default_factory=dict)

    @property
    def finished(self) -> int:
        return self.delivered + self.failed + self.skipped


@dataclass(eq=False)
class _Item:
    """A claimed delivery in memory: its rendered parts and its progress."""

    row: Claimed
    parts: Sequence[Payload]
    target: Target
    limit: ChatLimit
    parts_sent: int
    message_ids: list[str]
    attempts: int
    in_flight: bool = False
    # corrections: what each part did (edited | unchanged | notice | uneditable)
    detail: list[str] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.row.id


class _Signal:
    """A level-triggered wake-up: ``set()`` wakes the current or the next ``wait()``."""

    def __init__(self) -> None:
        self._flag = False
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        self._flag = True
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def wait(self, timeout: float | None) -> None:
        if self._flag or (timeout is not None and timeout <= 0):
            self._flag = False
            await asyncio.sleep(0)  # always yield, so a caller's loop can never starve the event loop
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._waiter = fut
        handle = loop.call_later(timeout, _resolve, fut) if timeout is not None else None
        try:
            await fut
        finally:
            self._waiter = None
            self._flag = False
            if handle is not None:
                handle.cancel()


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class _Lane:
    """The per-platform queue: items ordered by the monotonic time they may next be sent."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.heap: list[tuple[float, int, _Item]] = []
        self.signal = _Signal()

    def push(self, at: float, seq: int, item: _Item) -> None:
        heapq.heappush(self.heap, (at, seq, item))
        self.signal.set()


class _LRU(OrderedDict[Any, Any]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get_or(self, key: Any, make: Callable[[], Any]) -> Any:
        if key in self:
            self.move_to_end(key)
            return self[key]
        return self.put(key, make())

    def put(self, key: Any, value: Any) -> Any:
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)
        return value


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
        self.max_attempts = max(1, d.max_attempts)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.idle_poll = idle_poll
        self.rng = rng or random.Random()
        self.limits = RateLimits(
            d, paid_broadcast=settings.telegram.paid_broadcast, clock=monotonic, margin=rate_margin
        )
        self.stats = EngineStats()
        self._lanes = {p: _Lane(p) for p in self.transports}
        # Platforms whose sender lease this engine holds (briefcast.delivery.senders): it claims
        # and sends only those. Monotonic deadline per platform: past it, the lease is presumed lost.
        self._leased: dict[str, float] = {}
        self._standby_logged: set[str] = set()
        self._lease_signal = _Signal()
        self._to_release: list[int] = []
        # The platforms we have transports for (None: all of them, the cheaper queries).
        self._served = None if set(self._lanes) >= set(outbox.PLATFORMS) else tuple(self._lanes)
        self._held: dict[int, _Item] = {}
        self._seq = itertools.count()
        self._sem = asyncio.Semaphore(self.concurrency)
        self._in_flight = 0
        self._unrecorded = 0  # outcomes queued or being written
        self._tasks: set[asyncio.Task[None]] = set()
        self._results: list[tuple[Outcome, _Item | None]] = []
        self._results_signal = _Signal()
        self._claim_signal = _Signal()
        self._idle_signal = _Signal()
        self._stopping = False
        self._issues: _LRU = _LRU(8)
        self._sections: _LRU = _LRU(256)
        self._digests: _LRU = _LRU(1024)
        self._exhausted = False  # last claim found nothing due
        self._progress: Callable[[EngineStats], None] | None = None
        self._deadline: float | None = None
        self._heartbeat: liveness.Heartbeat | None = None
        # Bot-level faults (a revoked or mistyped token): platform -> reason. Such a platform is
        # paused (monotonic time of the next probe in ``_paused``), never its subscriptions.
        self.faults: dict[str, str] = {}
        self._paused: dict[str, float] = {}
        self._fault_streak: dict[str, int] = {}

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
        self._heartbeat = liveness.Heartbeat(self.db, self.owner, self._status_text)
        await asyncio.to_thread(self._heartbeat.start)
        await asyncio.to_thread(liveness.reap, self.db)
        await asyncio.to_thread(outbox.reclaim_expired, self.db, now=liveness.real_now())
        await self._refresh_leases()
        tasks = [asyncio.create_task(self._dispatch(lane)) for lane in self._lanes.values()]
        writer = asyncio.create_task(self._writer())
        renewer = asyncio.create_task(self._renewer())
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
            while self._in_flight or self._unrecorded:
                self._results_signal.set()
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
            await self._release_leases()
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
                    items, skipped = await asyncio.to_thread(self._claim_and_prepare, want, leased)
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
                    self._queue_result(o, None)
                for item in items:
                    self._held[item.id] = item
                    self._lanes[item.row.platform].push(self.monotonic(), next(self._seq), item)
                self._exhausted = got < want
                if got == want:
                    continue
            if drain_horizon is not None and not self._held and not self._in_flight and not self._unrecorded:
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

    def _claim_and_prepare(self, limit: int, leased: tuple[str, ...]) -> tuple[list[_Item], list[Outcome]]:
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
        items: list[_Item] = []
        done: list[Outcome] = []
        for row in rows:
            try:
                item = self._prepare(row)
            except Exception as e:  # a bug or a broken issue must not stop the other deliveries
                log.exception("cannot render delivery %s", row.id)
                done.append(self._final(row, Action.FAILED, f"render failed: {e}"))
                continue
            if isinstance(item, Outcome):
                done.append(item)
            else:
                items.append(item)
        return items, done

    def _final(self, row: Claimed, action: Action, error: str) -> Outcome:
        return Outcome(
            row.id, action, parts_total=row.parts_total, parts_sent=row.parts_sent,
            message_ids=row.message_ids, attempts=row.attempts, error=error,
        )  # fmt: skip

    def _prepare(self, row: Claimed) -> _Item | Outcome:
        if not row.active:
            return self._final(row, Action.SKIPPED, f"subscription inactive: {row.reason}".rstrip(": "))
        paused = self._paused_for(row)
        if paused is not None:  # its token is refused: back to the queue until the next probe
            return self._paused_outcome(row, row.attempts, paused)
        quiet = self._quiet(row)
        if quiet is not None:
            return quiet
        parts: Sequence[Payload]
        if row.kind == "watch":
            parts = self._watch_alert(row)
            if not parts:
                return self._final(row, Action.SKIPPED, "no watched word in this issue")
        elif row.kind == outbox.ROLLUP:
            parts = self._rollup(row)
            if not parts:
                return self._final(row, Action.SKIPPED, "none of the subscribed sectors is in these issues")
        else:
            parts = self._digest(row)
            if not parts:
                return self._final(row, Action.SKIPPED, "none of the subscribed sectors is in this issue")
        if row.silent or row.previews:  # /settings; the cached renders stay shared
            parts = apply_delivery_options(
                [dict(p) for p in parts], row.platform, silent=row.silent, previews=row.previews
            )
        if row.kind == "correction":
            parts = corrections.plan(row, parts, self._correction_notice(row))
        group = row.platform == "telegram" and (row.chat_kind in GROUP_KINDS or row.chat_id.startswith("-"))
        return _Item(
            row=row,
            parts=parts,
            target=Target(row.chat_id, row.thread_id, row.workspace, row.chat_kind),
            limit=ChatLimit(row.platform, (row.platform, row.workspace, row.chat_id), group),
            parts_sent=min(row.parts_sent, len(parts)),
            message_ids=list(row.message_ids),
            attempts=row.attempts,
            detail=list(row.detail),
        )

    def _quiet(self, row: Claimed) -> Outcome | None:
        """/quiet: an on-publish push (digest or watch alert) not yet begun inside the chat's quiet
        hours waits until they end (no attempt counted). Scheduled digests go at the chosen time;
        corrections edit silently."""
        if not row.quiet or row.parts_sent or row.kind == "correction":
            return None
        if row.kind in ("digest", outbox.ROLLUP) and row.mode != "publish":
            return None
        from zoneinfo import ZoneInfo

        from briefcast.slots import quiet_until

        tz = ZoneInfo(row.timezone or self.settings.default_timezone)
        until = quiet_until(row.quiet, tz, self.clock())
        if until is None:
            return None
        local = until.astimezone(tz)
        return Outcome(
            row.id, Action.RETRY, parts_total=row.parts_total, parts_sent=row.parts_sent,
            message_ids=row.message_ids, attempts=row.attempts, next_attempt_at=until,
            error=f"quiet hours: waits until {local:%Y-%m-%d %H:%M} ({tz.key})",
        )  # fmt: skip

    def _watch_alert(self, row: Claimed) -> tuple[Payload, ...]:
        """The passages of the issue that mention the watcher's words (nothing when none does)."""
        issue = self._issue(row.issue_id)
        if issue is None:
            return ()
        from briefcast.render.compose import watch_alert

        lang = row.language or self.settings.default_language
        public = self.settings.public_url

        def section_url(key: str) -> str | None:
            return issue_url(public, issue.id, lang=lang, section=key) or None

        doc = watch_alert(
            issue.briefing, row.words, lang=lang, issue_id=issue.id,
            prefix="/" if row.platform == "telegram" else "/briefing ",
            section_url=section_url if public else None, catalogue=getattr(self.store, "catalogue", None),
        )  # fmt: skip
        return () if doc is None else tuple(self.renderers[row.platform](doc))

    def _rollup(self, row: Claimed) -> Sequence[Payload]:
        """A weekly roll-up: the issues listed in ``detail`` (oldest first), one line per sector.
        Rendered once per (issues, sectors, platform, language), like digests, not per subscriber."""
        lang = row.language or self.settings.default_language
        key = ("rollup", row.detail, row.sectors, row.platform, lang)
        parts: Sequence[Payload] = self._digests.get_or(key, lambda: self._render_rollup(row, lang))
        return parts

    def _render_rollup(self, row: Claimed, lang: str) -> tuple[Payload, ...]:
        from briefcast.render.compose import rollup_document

        issues = [i for i in (self._issue(int(x)) for x in row.detail if x.isdigit()) if i is not None]
        doc = rollup_document(
            [(i.id, i.briefing) for i in issues], row.sectors, lang=lang, public_url=self.settings.public_url,
            catalogue=getattr(self.store, "catalogue", None),
        )  # fmt: skip
        return () if doc is None else tuple(self.renderers[row.platform](doc))

    def _correction_notice(self, row: Claimed) -> Payload:
        """The short "this issue was corrected" reply, for a message that cannot be edited."""
        issue = self._issue(row.issue_id)
        lang = row.language or self.settings.default_language
        prefix = "/" if row.platform == "telegram" else "/briefing "
        doc = corrections.notice_document(
            issue, lang=lang, public_url=self.settings.public_url, prefix=prefix
        )
        return self.renderers[row.platform](doc)[0]

    def _issue(self, issue_id: int) -> StoredIssue | None:
        issue: StoredIssue | None = self._issues.get_or(issue_id, lambda: self.store.get_issue(issue_id))
        return issue

    def _digest(self, row: Claimed) -> Sequence[Payload]:
        """All parts for this subscription: its sectors present in the issue, in issue order."""
        variant = row.variant or self.settings.delivery.variant
        lang = row.language or self.settings.default_language
        key = (row.issue_id, row.sectors, row.platform, variant, lang)
        parts: Sequence[Payload] = self._digests.get_or(key, lambda: self._render_digest(row, variant, lang))
        return parts

    def _render_digest(self, row: Claimed, variant: str, lang: str) -> tuple[Payload, ...]:
        issue = self._issue(row.issue_id)
        if issue is None:
            return ()
        from briefcast.render.compose import digest_parts, with_issue_link  # sections in issue order

        out: list[Payload] = []
        delivered = (s.key for s in issue.briefing.delivered_sections)
        wanted = self.store.catalogue.received(row.sectors, delivered)
        for name, make in digest_parts(issue.briefing, wanted, lang=lang, compact=variant == "compact"):
            key = (row.issue_id, name, row.platform, variant, lang)
            cached = self._sections.get(key)
            if cached is None:
                # every sector's message ends with the "read the whole issue" button (public URL set)
                anchor = "" if name == "intro" else name.split("+")[0]
                doc = with_issue_link(make(), self.settings.public_url, issue.id, lang=lang, section=anchor)
                cached = tuple(self.renderers[row.platform](doc))
                self._sections.put(key, cached)
            out.extend(cached)
        return tuple(out)

    async def _dispatch(self, lane: _Lane) -> None:
        """Send the lane's items as soon as their buckets allow, bounded by the concurrency slots."""
        transport = self.transports[lane.platform]
        while not self._stopping:
            item = await self._next_ready(lane)
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

    async def _next_ready(self, lane: _Lane) -> _Item | None:
        while not self._stopping:
            now = self.monotonic()
            gate = self.limits.platform_ready_at(lane.platform, now)
            if gate > now:
                await lane.signal.wait(gate - now)
                continue
            if lane.heap and lane.heap[0][0] <= now:
                _, seq, item = heapq.heappop(lane.heap)
                ready = self.limits.ready_at(item.limit, now)
                if ready > now:
                    heapq.heappush(lane.heap, (ready, seq, item))
                    continue
                return item
            await lane.signal.wait(lane.heap[0][0] - now if lane.heap else None)
        return None

    async def _send(self, transport: Transport, lane: _Lane, item: _Item) -> None:
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
            if self._fault_streak:
                self._token_ok(self._fault_key(item.row))
            item.parts_sent += 1
            item.message_ids.append(message_id)
            self.stats.parts_sent += 1
            last = item.parts_sent >= len(item.parts)
            outcome = Outcome(
                item.id, Action.SENT if last else Action.PROGRESS, parts_total=len(item.parts),
                parts_sent=item.parts_sent, message_ids=tuple(item.message_ids),
                # attempts counts tries: the failed ones and, once sent, the one that worked
                attempts=item.attempts + 1 if last else item.attempts,
                detail=tuple(item.detail) if item.row.kind == "correction" else None,
            )  # fmt: skip
        if outcome is None:  # migrated: retried at once, nothing to record
            item.in_flight = False
            self._in_flight -= 1
            self._sem.release()
            lane.push(self.monotonic(), next(self._seq), item)
            return
        self._queue_result(outcome, item)

    async def _failure(self, item: _Item, lane: _Lane, e: SendError) -> Outcome | None:
        """Turn a failed send into the row update (or ``None`` to retry at once after a migration)."""
        row = item.row
        item.attempts += 1
        base = {
            "parts_total": len(item.parts), "parts_sent": item.parts_sent,
            "message_ids": tuple(item.message_ids), "attempts": item.attempts,
        }  # fmt: skip
        if e.kind is FailureKind.MIGRATED and e.new_chat_id and item.attempts < self.max_attempts:
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
            key = self._fault_key(row)
            self._token_fault(key, row.platform, e.reason)
            out = self._paused_outcome(row, item.attempts, key)
            out.parts_sent, out.message_ids = item.parts_sent, tuple(item.message_ids)
            return out
        if e.kind is FailureKind.PERMANENT:
            self.stats.deactivated += 1
            thread_only = bool(row.thread_id) and any(w in e.reason.lower() for w in ("thread", "topic"))
            return Outcome(
                item.id, Action.FAILED, error=e.reason, **base,  # type: ignore[arg-type]
                deactivate_chat_pk=None if thread_only else row.chat_pk,
                deactivate_subscription_id=row.subscription_id if thread_only else None,
            )  # fmt: skip
        if e.kind is FailureKind.REJECTED:
            return Outcome(item.id, Action.FAILED, error=e.reason, **base)  # type: ignore[arg-type]
        if item.attempts >= self.max_attempts:
            return Outcome(
                item.id, Action.FAILED, error=f"gave up after {item.attempts} attempts: {e.reason}",
                **base,  # type: ignore[arg-type]
            )  # fmt: skip
        if e.kind is FailureKind.RETRY_AFTER:
            self.stats.rate_limited += 1
            wait = max(0.0, e.retry_after or 1.0)
            self.limits.pause_chat(item.limit, wait)
            if e.platform_wide or not item.limit.group:
                # Our own chat buckets were respected, so a private chat's 429 is the bot-wide limit.
                self.limits.pause_platform(row.platform, wait)
            delay = wait
        else:
            delay = min(self.backoff_cap, self.backoff_base * 2 ** (item.attempts - 1))
            delay *= self.rng.uniform(0.5, 1.0)
        self.stats.retried += 1
        return Outcome(
            item.id, Action.RETRY, error=e.reason, next_attempt_at=self.clock() + timedelta(seconds=delay),
            **base,  # type: ignore[arg-type]
        )  # fmt: skip

    def _queue_result(self, outcome: Outcome, item: _Item | None) -> None:
        self._results.append((outcome, item))
        self._unrecorded += 1
        self._results_signal.set()

    async def _writer(self) -> None:
        """Group commit: write everything queued since the last commit in one transaction."""
        while True:
            await self._results_signal.wait(None)
            while self._results:
                batch, self._results = self._results, []
                try:
                    await asyncio.to_thread(
                        outbox.apply, self.db, self.owner, [o for o, _ in batch], now=self.clock()
                    )
                except Exception:
                    log.exception("recording %d delivery outcomes failed; retrying", len(batch))
                    self._results[:0] = batch
                    await asyncio.sleep(0.5)
                    continue
                self._after_commit(batch)

    def _after_commit(self, batch: list[tuple[Outcome, _Item | None]]) -> None:
        for outcome, item in batch:
            self._unrecorded -= 1
            self._count(outcome)
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

    def _count(self, o: Outcome) -> None:
        s = self.stats
        if o.action is Action.SENT:
            s.delivered += 1
        elif o.action is Action.FAILED:
            s.failed += 1
        elif o.action is Action.SKIPPED:
            s.skipped += 1

    # ------------------------------------------------------------------------------ sender leases

    def _sending_platforms(self) -> tuple[str, ...]:
        now = self.monotonic()
        return tuple(
            p for p, deadline in self._leased.items() if deadline > now and self._paused.get(p, 0.0) <= now
        )

    def _status_text(self) -> str:
        """Stored with each heartbeat: the platforms paused on a token fault (dashboard, doctor)."""
        return "; ".join(f"paused {p}: {why}" for p, why in sorted(self.faults.items()))

    def _token_fault(self, key: str, platform: str, reason: str) -> float:
        """The bot's token was refused. ``key`` is ``telegram``, ``slack`` or ``slack:TEAM`` (one
        workspace's installation token): every chat behind it would fail alike, so that key is
        paused (not its subscriptions), its queued rows are put back for later, and it is probed
        again with backoff. Returns the pause (s)."""
        now = self.monotonic()
        if self._paused.get(key, 0.0) > now:
            return self._paused[key] - now  # already paused by another send in flight
        streak = self._fault_streak.get(key, 0)
        pause = float(min(TOKEN_PROBE_MAX, TOKEN_PROBE_FIRST * 2**streak))
        self._fault_streak[key] = streak + 1
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
        lane = self._lanes[platform]
        keep = []
        for entry in lane.heap:
            item = entry[2]
            if item.in_flight or self._fault_key(item.row) != key:
                keep.append(entry)
            else:
                self._held.pop(item.id, None)
                self._queue_result(self._paused_outcome(item.row, item.attempts, key), None)
        heapq.heapify(keep)
        lane.heap = keep
        return pause

    @staticmethod
    def _fault_key(row: Claimed) -> str:
        return f"slack:{row.workspace}" if row.platform == "slack" and row.workspace else row.platform

    def _paused_for(self, row: Claimed) -> str | None:
        now = self.monotonic()
        for key in (row.platform, self._fault_key(row)):
            if self._paused.get(key, 0.0) > now:
                return key
        return None

    def _paused_outcome(self, row: Claimed, attempts: int, key: str) -> Outcome:
        wait = max(0.0, self._paused.get(key, 0.0) - self.monotonic())
        return Outcome(
            row.id, Action.RETRY, parts_total=row.parts_total, parts_sent=row.parts_sent,
            message_ids=row.message_ids, attempts=attempts,
            error=f"{PAUSED_PREFIX} {key} refused the bot token ({self.faults.get(key, '')})",
            next_attempt_at=self.clock() + timedelta(seconds=wait),
        )  # fmt: skip

    def _token_ok(self, key: str) -> None:
        if key in self.faults:
            log.warning("%s accepts the bot token again: sending resumes", key)
            self.faults.pop(key, None)
        self._paused.pop(key, None)
        self._fault_streak.pop(key, None)

    def _standing_by(self) -> bool:
        """True while another worker holds the sender lease of one of our platforms."""
        return len(self._sending_platforms()) < len(self._lanes)

    async def _refresh_leases(self) -> None:
        """Take or renew the sender lease of every platform this engine has a transport for."""
        for platform in self._lanes:
            started = self.monotonic()
            try:
                held = await asyncio.to_thread(
                    senders.acquire,
                    self.db,
                    platform,
                    self.owner,
                    now=liveness.real_now(),
                    ttl=self.sender_ttl,
                )
            except Exception:
                # The database is away: keep sending while our last renewal is still valid.
                log.exception("renewing the %s sender lease failed", platform)
                held = None
            if held is None:
                if platform in self._leased and self._leased[platform] <= self.monotonic():
                    self._lose_lease(platform)
            elif held:
                if platform not in self._leased:
                    log.info("sending to %s (sender lease %s)", platform, self.owner)
                    self._claim_signal.set()
                # A small safety margin: renewals are stamped by the caller's clock.
                self._leased[platform] = started + self.sender_ttl.total_seconds() * 0.9
            elif platform in self._leased:
                self._lose_lease(platform)
            elif platform not in self._standby_logged:
                self._standby_logged.add(platform)
                log.info("standing by for %s: another worker holds its sender lease", platform)

    def _lose_lease(self, platform: str) -> None:
        """Another worker took over (we stalled past the lease): stop sending this platform's
        queued items; the ones in flight finish, the rest go back to the queue."""
        log.warning("lost the %s sender lease; handing queued deliveries back", platform)
        self._leased.pop(platform, None)
        lane = self._lanes[platform]
        keep: list[tuple[float, int, _Item]] = []
        for entry in lane.heap:
            if entry[2].in_flight:
                keep.append(entry)
            else:
                self._to_release.append(entry[2].id)
                self._held.pop(entry[2].id, None)
        heapq.heapify(keep)
        lane.heap = keep

    async def _lease_keeper(self) -> None:
        """Renew held leases every third of their lifetime; while standing by, also look every
        :data:`STANDBY_POLL` seconds and whenever work is enqueued (``wake``), so a clean stop of
        the sender hands over within about a second."""
        renew = self.sender_ttl.total_seconds() / 3
        while True:
            await self._lease_signal.wait(min(renew, STANDBY_POLL) if self._standing_by() else renew)
            await self._refresh_leases()
            if self._to_release:
                ids, self._to_release = self._to_release, []
                try:
                    await asyncio.to_thread(outbox.release, self.db, self.owner, ids, now=liveness.real_now())
                except Exception:
                    log.exception("handing %d deliveries back failed (their lease will lapse)", len(ids))

    async def _release_leases(self) -> None:
        for platform in list(self._leased):
            try:
                await asyncio.to_thread(
                    senders.release, self.db, platform, self.owner, now=liveness.real_now()
                )
            except Exception:
                log.exception("giving the %s sender lease back failed (it will lapse)", platform)
        self._leased.clear()

    async def _renewer(self) -> None:
        """Extend the leases of held rows well before they expire."""
        period = max(0.05, self.lease.total_seconds() / 3)
        while True:
            await asyncio.sleep(period)
            ids = list(self._held)
            if ids:
                try:
                    await asyncio.to_thread(
                        outbox.renew, self.db, self.owner, ids, until=liveness.real_now() + self.lease
                    )
                except Exception:
                    log.exception("lease renewal failed")


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
