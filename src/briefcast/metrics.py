"""Prometheus metrics at ``GET /metrics`` (text exposition format 0.0.4), without extra dependencies.

Two kinds of numbers:

* **in-process** counters and a histogram, incremented where things happen: sends and their
  latency (:class:`InstrumentedTransport` wraps any delivery transport), 429 answers, commands
  served (:func:`instrument_commands`);
* **database** gauges read at scrape time: deliveries by platform and status, the queue depth
  (pending deliveries that are due now) and active subscriptions. These are the same for every
  replica — the database is the source of truth when several workers share one queue — so a
  dashboard should take ``max`` over instances, not ``sum``.

The format is small enough to write by hand (``# HELP``, ``# TYPE``, ``name{labels} value``);
a dependency on ``prometheus_client`` would buy nothing here.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

if TYPE_CHECKING:
    from briefcast.bot.commands import Commands
    from briefcast.delivery.engine import Payload, Target, Transport
    from briefcast.store import Store

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels, extra: Labels = ()) -> str:
    pairs = (*labels, *extra)
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


class Counter:
    """A monotonically increasing count per label set."""

    kind = "counter"

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        self.name, self.help, self.labelnames = name, help, tuple(labelnames)
        self._values: dict[Labels, float] = {}
        self._lock = threading.Lock()

    def _key(self, labels: Mapping[str, str]) -> Labels:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {tuple(labels)}")
        return tuple((k, str(labels[k])) for k in self.labelnames)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError("counters only go up")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        with self._lock:
            return self._values.get(self._key(labels), 0.0)

    def samples(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        suffix = "_total"
        return [f"{self.name}{suffix}{_labels(k)} {_number(v)}" for k, v in items]


class Histogram:
    """Observations in cumulative buckets, with ``_sum`` and ``_count``, per label set."""

    kind = "histogram"

    def __init__(
        self, name: str, help: str, labelnames: Sequence[str] = (), buckets: Sequence[float] = LATENCY_BUCKETS
    ) -> None:
        self.name, self.help, self.labelnames = name, help, tuple(labelnames)
        self.buckets = tuple(sorted(buckets))
        self._data: dict[Labels, tuple[list[int], list[float]]] = {}
        self._lock = threading.Lock()

    def observe(self, value: float, **labels: str) -> None:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {tuple(labels)}")
        key = tuple((k, str(labels[k])) for k in self.labelnames)
        with self._lock:
            counts, totals = self._data.setdefault(key, ([0] * (len(self.buckets) + 1), [0.0]))
            counts[bisect.bisect_left(self.buckets, value)] += 1
            totals[0] += value

    def count(self, **labels: str) -> int:
        key = tuple((k, str(labels[k])) for k in self.labelnames)
        with self._lock:
            data = self._data.get(key)
            return sum(data[0]) if data else 0

    def samples(self) -> list[str]:
        with self._lock:
            items = sorted((k, (list(c), t[0])) for k, (c, t) in self._data.items())
        out: list[str] = []
        for key, (counts, total) in items:
            running = 0
            for bound, n in zip((*self.buckets, math.inf), counts, strict=True):
                running += n
                out.append(f"{self.name}_bucket{_labels(key, (('le', _number(bound)),))} {running}")
            out.append(f"{self.name}_sum{_labels(key)} {_number(total)}")
            out.append(f"{self.name}_count{_labels(key)} {running}")
        return out


class Metrics:
    """The process's instruments. One instance (:data:`METRICS`) is shared by everything."""

    def __init__(self) -> None:
        self.sends = Counter(
            "briefcast_sends", "Messages sent to a platform, by outcome.", ("platform", "outcome")
        )
        self.send_latency = Histogram(
            "briefcast_send_latency_seconds", "Time of one platform send call.", ("platform",)
        )
        self.rate_limited = Counter(
            "briefcast_rate_limited", "429 answers (flood control) from a platform.", ("platform",)
        )
        self.commands = Counter(
            "briefcast_commands_served", "Bot commands and button presses answered.", ("platform", "command")
        )
        self.instruments: tuple[Counter | Histogram, ...] = (
            self.sends,
            self.send_latency,
            self.rate_limited,
            self.commands,
        )

    def exposition(self, gauges: Iterable[tuple[str, str, Sequence[tuple[Labels, float]]]] = ()) -> str:
        """The whole text page: every instrument, then the given gauges ``(name, help, samples)``."""
        lines: list[str] = []
        for inst in self.instruments:
            name = f"{inst.name}_total" if inst.kind == "counter" else inst.name
            lines += [f"# HELP {name} {inst.help}", f"# TYPE {name} {inst.kind}", *inst.samples()]
        for name, help, samples in gauges:
            lines += [f"# HELP {name} {help}", f"# TYPE {name} gauge"]
            lines += [f"{name}{_labels(labels)} {_number(value)}" for labels, value in samples]
        return "\n".join(lines) + "\n"


METRICS = Metrics()
"""The process-wide instruments."""


# ------------------------------------------------------------------ database gauges


def database_gauges(
    store: Store, *, now: datetime | None = None
) -> list[tuple[str, str, list[tuple[Labels, float]]]]:
    """Deliveries by platform/status, queue depth, active subscriptions by platform (one round trip each)."""
    from briefcast.delivery.outbox import PENDING, PLATFORMS, STATUSES, C, D, S

    moment = now or datetime.now(UTC)
    by_status: dict[tuple[str, str], int] = {(p, s): 0 for p in PLATFORMS for s in STATUSES}
    with store.engine.connect() as conn:
        # delivery.platform (revision 0008): one table scan, no join, at a million rows too
        q = sa.select(D.c.platform, D.c.status, sa.func.count())
        for platform, status, n in conn.execute(q.group_by(D.c.platform, D.c.status)):
            by_status[(str(platform), str(status))] = int(n)
        due = conn.execute(
            sa.select(sa.func.count())
            .select_from(D)
            .where(
                D.c.status == PENDING, sa.or_(D.c.next_attempt_at.is_(None), D.c.next_attempt_at <= moment)
            )
        ).scalar_one()
        waiting = conn.execute(
            sa.select(sa.func.count()).select_from(D).where(D.c.status == PENDING)
        ).scalar_one()
        subs: dict[str, int] = dict(
            conn.execute(
                sa.select(C.c.platform, sa.func.count())
                .select_from(S.join(C, C.c.id == S.c.chat_id))
                .where(S.c.active.is_(True), C.c.active.is_(True))
                .group_by(C.c.platform)
            ).all()
        )
    from briefcast.delivery import senders

    leases: list[tuple[Labels, float]] = [
        ((("platform", h.platform), ("owner", h.owner)), 1.0 if h.live(moment) else 0.0)
        for h in senders.holders(store.engine)
    ]
    return [
        (
            "briefcast_sender_lease",
            "1 while the owner worker holds the platform's sender lease (it alone sends), else 0.",
            leases,
        ),
        (
            "briefcast_deliveries",
            "Delivery rows in the database, by platform and status.",
            [((("platform", p), ("status", s)), float(n)) for (p, s), n in sorted(by_status.items())],
        ),
        ("briefcast_queue_depth", "Pending deliveries that are due now.", [((), float(due))]),
        (
            "briefcast_queue_pending",
            "Pending deliveries, due now or waiting for a retry.",
            [((), float(waiting))],
        ),
        (
            "briefcast_subscriptions_active",
            "Active subscriptions, by platform.",
            [((("platform", p),), float(subs.get(p, 0))) for p in PLATFORMS],
        ),
    ]


def metrics_route(store: Store | None, metrics: Metrics = METRICS, *, path: str = "/metrics") -> Route:
    """``GET /metrics``. A database that cannot be read is reported as ``briefcast_up 0``, not a 500."""

    async def endpoint(request: Request) -> Response:
        gauges: list[tuple[str, str, Sequence[tuple[Labels, float]]]] = []
        up = 1.0
        if store is not None:
            try:
                gauges += await asyncio.to_thread(database_gauges, store)
            except sa.exc.SQLAlchemyError:
                up = 0.0
        gauges.insert(
            0, ("briefcast_database_up", "1 if the database answered the scrape's queries.", [((), up)])
        )
        return Response(metrics.exposition(gauges), media_type=CONTENT_TYPE)

    return Route(path, endpoint, methods=["GET"])


# ------------------------------------------------------------------ instrumentation


class InstrumentedTransport:
    """Wraps a delivery :class:`~briefcast.delivery.engine.Transport`: times each send, counts outcomes.

    The engine sees the same interface; a ``SendError`` still propagates unchanged.
    """

    def __init__(
        self, inner: Transport, metrics: Metrics = METRICS, *, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.inner = inner
        self.platform = inner.platform
        self.metrics = metrics
        self.clock = clock

    async def send(self, target: Target, payload: Payload) -> str:
        from briefcast.delivery.errors import FailureKind, SendError

        start = self.clock()
        try:
            result = await self.inner.send(target, payload)
        except SendError as e:
            self.metrics.send_latency.observe(self.clock() - start, platform=self.platform)
            if e.kind is FailureKind.RETRY_AFTER:
                self.metrics.rate_limited.inc(platform=self.platform)
            self.metrics.sends.inc(platform=self.platform, outcome=e.kind.name.lower())
            raise
        self.metrics.send_latency.observe(self.clock() - start, platform=self.platform)
        self.metrics.sends.inc(platform=self.platform, outcome="ok")
        return result

    async def close(self) -> None:
        await self.inner.close()


def instrument_transports(
    transports: Mapping[str, Transport], metrics: Metrics = METRICS
) -> dict[str, Transport]:
    """Every transport wrapped in :class:`InstrumentedTransport`."""
    return {name: InstrumentedTransport(t, metrics) for name, t in transports.items()}


def instrument_commands(commands: Commands, metrics: Metrics = METRICS) -> Commands:
    """Count every command and button press a :class:`~briefcast.bot.commands.Commands` answers.

    Wraps ``handle`` / ``handle_action`` on this one instance (the adapters call those two
    methods and nothing else), so the command layer itself stays free of metrics code.
    """
    handle, handle_action = commands.handle, commands.handle_action
    platform = commands.platform

    def label(request: Any) -> str:
        # bounded label values: a declared command's canonical name, never the user's raw text
        if not request.command:
            return "text"
        spec = commands.resolve(request.command)
        return spec.name if spec is not None else "unknown"

    async def counted_handle(request: Any) -> Any:
        reply = await handle(request)
        metrics.commands.inc(platform=platform, command=label(request))
        return reply

    async def counted_action(request: Any, action: str, value: str) -> Any:
        reply = await handle_action(request, action, value)
        known = action if action.isidentifier() and len(action) <= 32 else "unknown"
        metrics.commands.inc(platform=platform, command=f"button:{known}")
        return reply

    object.__setattr__(commands, "handle", counted_handle)
    object.__setattr__(commands, "handle_action", counted_action)
    return commands
