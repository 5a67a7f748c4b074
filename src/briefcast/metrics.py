"""Prometheus metrics at ``GET /metrics`` (text exposition format 0.0.4), on ``prometheus_client``.

Two kinds of numbers:

* **in-process** counters and a histogram, incremented where things happen: sends and their
  latency (:class:`InstrumentedTransport` wraps any delivery transport), 429 answers, commands
  served (:func:`instrument_commands`);
* **database** gauges read at scrape time by :class:`DatabaseCollector`: deliveries by platform
  and status, the queue depth (pending deliveries that are due now) and active subscriptions.
  These are the same for every replica — the database is the source of truth when several
  workers share one queue — so a dashboard should take ``max`` over instances, not ``sum``.

Each :class:`Metrics` has its own ``CollectorRegistry`` (tests and the playground build their
own; :data:`METRICS` is the process's), so nothing registers into the library's global one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import prometheus_client
import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

if TYPE_CHECKING:
    from briefcast.bot.commands import Commands
    from briefcast.delivery.engine import Payload, Target, Transport
    from briefcast.store import Store

CONTENT_TYPE = prometheus_client.CONTENT_TYPE_PLAIN_0_0_4  # what generate_latest writes
LATENCY_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# No ``*_created`` series: a timestamp per label set that no dashboard of ours reads.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]

Labels = tuple[tuple[str, str], ...]
Gauge = tuple[str, str, Sequence[tuple[Labels, float]]]
"""A gauge read at scrape time: ``(name, help, [(labels, value), ...])``."""


class GaugeCollector(Collector):
    """Yields the given gauges (each label set of one gauge has the same label names)."""

    def __init__(self, gauges: Callable[[], Iterable[Gauge]]) -> None:
        self.gauges = gauges

    def collect(self) -> Iterator[Metric]:
        for name, help, samples in self.gauges():
            names = [k for k, _ in samples[0][0]] if samples else []
            family = GaugeMetricFamily(name, help, labels=names)
            for labels, value in samples:
                family.add_metric([v for _, v in labels], value)
            yield family


class Metrics:
    """The process's instruments, in a registry of their own. :data:`METRICS` is shared by everything."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.sends = Counter(
            "briefcast_sends",
            "Messages sent to a platform, by outcome.",
            ("platform", "outcome"),
            registry=self.registry,
        )
        self.send_latency = Histogram(
            "briefcast_send_latency_seconds",
            "Time of one platform send call.",
            ("platform",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "briefcast_rate_limited",
            "429 answers (flood control) from a platform.",
            ("platform",),
            registry=self.registry,
        )
        self.commands = Counter(
            "briefcast_commands_served",
            "Bot commands and button presses answered.",
            ("platform", "command"),
            registry=self.registry,
        )

    def value(self, sample: str, **labels: str) -> float:
        """The current value of one sample (``briefcast_sends_total``, ``…_count``), 0 if never set."""
        found = self.registry.get_sample_value(sample, labels)
        return 0.0 if found is None else found

    def exposition(self, gauges: Iterable[Gauge] = (), *collectors: Collector) -> str:
        """The whole text page: every instrument, then the given gauges and collectors."""
        scrape = CollectorRegistry(auto_describe=False)
        scrape.register(_Instruments(self.registry))
        fixed = list(gauges)
        if fixed:
            scrape.register(GaugeCollector(lambda: fixed))
        for collector in collectors:
            scrape.register(collector)
        return generate_latest(scrape).decode("utf-8")


class _Instruments(Collector):
    """A process registry's metrics, collected into a per-scrape registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()


METRICS = Metrics()
"""The process-wide instruments."""


# ------------------------------------------------------------------ database gauges


def database_gauges(
    store: Store, *, now: datetime | None = None
) -> list[tuple[str, str, list[tuple[Labels, float]]]]:
    """Deliveries by platform/status, queue depth, active subscriptions by platform (one round trip each)."""
    from briefcast.store import read_models
    from briefcast.store.schema import PLATFORMS

    moment = now or datetime.now(UTC)
    counts = read_models.delivery_counts(store)  # one scan of delivery.platform/status (revision 0008)
    by_status = {(p, st): n for p, per in counts.items() for st, n in per.items()}
    queue = read_models.queue_counts(store, now=moment)
    due, waiting, subs = queue.due, queue.pending, queue.active_subscriptions
    from briefcast.store.outbox import liveness, senders

    try:
        workers = liveness.workers(store.engine)
    except Exception:  # a database without the worker table yet
        workers = []
    alive = {w.owner for w in workers if w.alive}
    leases: list[tuple[Labels, float]] = [
        (
            (("platform", h.platform), ("owner", h.owner)),
            1.0 if h.live(moment) and (h.owner in alive or not workers) else 0.0,
        )
        for h in senders.holders(store.engine)
    ]
    states = {"alive": 0, "dead": 0, "paused": 0}
    for w in workers:
        states["dead" if not w.alive else "paused" if w.status else "alive"] += 1
    return [
        (
            "briefcast_workers",
            "Delivery workers: alive (heartbeat), dead (not yet taken over), paused (token refused).",
            [((("state", k),), float(v)) for k, v in states.items()],
        ),
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


class DatabaseCollector(Collector):
    """The database gauges (:func:`database_gauges`), read when Prometheus scrapes.

    A database that cannot be read is reported as ``briefcast_database_up 0`` and no other
    database gauge, never as a failed scrape.
    """

    def __init__(self, store: Store | None) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        gauges: list[Gauge] = []
        up = 1.0
        if self.store is not None:
            try:
                gauges += database_gauges(self.store)
            except sa.exc.SQLAlchemyError:
                up = 0.0
        gauges.insert(
            0, ("briefcast_database_up", "1 if the database answered the scrape's queries.", [((), up)])
        )
        return GaugeCollector(lambda: gauges).collect()


def metrics_route(store: Store | None, metrics: Metrics = METRICS, *, path: str = "/metrics") -> Route:
    """``GET /metrics``: the process's instruments and the :class:`DatabaseCollector`'s gauges."""
    database = DatabaseCollector(store)

    async def endpoint(request: Request) -> Response:
        # the database queries run off the event loop the bots and the engine share
        text = await asyncio.to_thread(metrics.exposition, (), database)
        return Response(text, media_type=CONTENT_TYPE)

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
        return await self._counted(self.inner.send(target, payload))

    async def edit(self, target: Target, message_id: str, payload: Payload) -> str:
        """An in-place correction (``editMessageText`` / ``chat.update``), counted like a send."""
        edit = self.inner.edit  # type: ignore[attr-defined]
        return await self._counted(edit(target, message_id, payload))

    async def _counted(self, call: Awaitable[str]) -> str:
        """Time one platform call and count its outcome (``ok`` or the failure kind, 429s apart)."""
        from briefcast.delivery.errors import FailureKind, SendError

        start = self.clock()
        try:
            result = await call
        except SendError as e:
            self.metrics.send_latency.labels(platform=self.platform).observe(self.clock() - start)
            if e.kind is FailureKind.RETRY_AFTER:
                self.metrics.rate_limited.labels(platform=self.platform).inc()
            self.metrics.sends.labels(platform=self.platform, outcome=e.kind.name.lower()).inc()
            raise
        self.metrics.send_latency.labels(platform=self.platform).observe(self.clock() - start)
        self.metrics.sends.labels(platform=self.platform, outcome="ok").inc()
        return result

    async def close(self) -> None:
        await self.inner.close()


def instrument_transports(
    transports: Mapping[str, Transport], metrics: Metrics = METRICS
) -> dict[str, Transport]:
    """Every transport wrapped in :class:`InstrumentedTransport`."""
    return {name: InstrumentedTransport(t, metrics) for name, t in transports.items()}


def instrument_commands(commands: Commands, metrics: Metrics = METRICS, *, _view: bool = False) -> Commands:
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
        metrics.commands.labels(platform=platform, command=label(request)).inc()
        return reply

    async def counted_action(request: Any, action: str, value: str) -> Any:
        reply = await handle_action(request, action, value)
        known = action if action.isidentifier() and len(action) <= 32 else "unknown"
        metrics.commands.labels(platform=platform, command=f"button:{known}").inc()
        return reply

    object.__setattr__(commands, "handle", counted_handle)
    object.__setattr__(commands, "handle_action", counted_action)
    if not _view:  # per-request views (Commands.with_ops) are wrapped the same way

        def rewrap(view: Commands) -> None:
            instrument_commands(view, metrics, _view=True)

        commands.wrappers.append(rewrap)
    return commands
