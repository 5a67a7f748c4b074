"""The engine under test, in its own process: ``python -m bench.worker '<WorkerSpec JSON>'``.

``drain`` mode runs :meth:`DeliveryEngine.drain` over the outbox and prints one JSON report:
wall time, CPU time (user + system, every thread), peak RSS and the engine's counters.
``serve`` mode runs :func:`briefcast.delivery.ops.run_worker` (engine + slot scheduler) until
SIGTERM, as ``briefcast worker`` does.

Production code paths only: real :class:`TelegramTransport` / :class:`SlackTransport`, the
real settings objects; ``engine_limits="off"`` raises the engine's own rate limits far above
anything reachable (the "engine overhead" measurement), nothing else is changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any

from briefcast.config import DeliverySettings, Secret, Settings, SlackSettings, TelegramSettings
from briefcast.delivery.engine import DeliveryEngine, Transport
from briefcast.delivery.transports import build_transports
from briefcast.store import Store

UNLIMITED = {
    "telegram_global_per_second": 1e9,
    "telegram_paid_per_second": 1e9,
    "telegram_chat_per_second": 1e9,
    "telegram_group_per_minute": 1e9,
    "slack_channel_per_second": 1e9,
}


def vm_hwm_kb() -> int:
    """Peak resident set size of this process (``VmHWM``), in KiB."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def settings_for(spec: dict[str, Any]) -> Settings:
    # A restarted worker waits for a killed one's sender lease to lapse: as short as the row lease.
    delivery: dict[str, Any] = {
        "concurrency": spec["concurrency"],
        "lease_seconds": spec["lease"],
        "sender_lease_seconds": min(15.0, spec["lease"]),
    }
    if spec["engine_limits"] == "off":
        delivery.update(UNLIMITED)
    telegram = TelegramSettings(
        token=Secret(spec["token"] if spec["platform"] == "telegram" else ""),
        api_url=spec["base_url"] if spec["platform"] == "telegram" else "",
        paid_broadcast=bool(spec["paid"]),
    )
    slack = SlackSettings(
        bot_token=Secret(spec["token"] if spec["platform"] == "slack" else ""),
        api_url=spec["base_url"] if spec["platform"] == "slack" else "",
    )
    return Settings(
        database_url=spec["db_url"],
        telegram=telegram,
        slack=slack,
        delivery=DeliverySettings(**delivery),
    )


def transports_for(spec: dict[str, Any]) -> dict[str, Transport]:
    """Exactly what ``briefcast worker`` builds (connection pool sized by ``send_concurrency``)."""
    return build_transports(settings_for(spec))


async def drain(spec: dict[str, Any]) -> dict[str, Any]:
    settings = settings_for(spec)
    store = Store.open(spec["db_url"], settings=settings, migrate=False)
    transports = transports_for(spec)
    extra: dict[str, Any] = {}
    if spec.get("rate_margin") is not None:
        extra["rate_margin"] = float(spec["rate_margin"])
    engine = DeliveryEngine(
        settings, store, transports, idle_poll=0.05, batch_size=spec["batch_size"] or None, **extra
    )
    profiler: Any = None
    if spec["profile"]:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001, async_mode="disabled")
        profiler.start()
    cpu0, t0 = cpu_seconds(), time.monotonic()
    try:
        if spec.get("max_seconds"):
            stats = await _bounded(engine, store, float(spec["max_seconds"]))
        else:
            stats = await engine.drain(wait_retries=spec["wait_retries"])
    finally:
        t1, cpu1 = time.monotonic(), cpu_seconds()
        if profiler is not None:
            profiler.stop()
            Path(spec["profile"]).write_text(profiler.output_html())
            Path(spec["profile"]).with_suffix(".txt").write_text(
                profiler.output_text(unicode=True, show_all=True)
            )
        for t in transports.values():
            await t.close()
        store.close()
    return {
        "t_start": t0,
        "t_end": t1,
        "elapsed": t1 - t0,
        "cpu": cpu1 - cpu0,
        "vm_hwm_kb": vm_hwm_kb(),
        "delivered": stats.delivered,
        "failed": stats.failed,
        "skipped": stats.skipped,
        "retried": stats.retried,
        "rate_limited": stats.rate_limited,
        "parts_sent": stats.parts_sent,
        "claimed": stats.claimed,
    }


async def _bounded(engine: DeliveryEngine, store: Store, max_seconds: float) -> Any:
    """Run the engine until the outbox is empty or ``max_seconds`` passed (time-bounded measurements)."""
    from briefcast.store import outbox

    stop = asyncio.Event()

    async def watch() -> None:
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline:
            await asyncio.sleep(0.25)
            counts = await asyncio.to_thread(outbox.count_by_status, store.engine)
            if counts["pending"] == 0 and counts["claimed"] == 0:
                break
        stop.set()

    watcher = asyncio.create_task(watch())
    try:
        return await engine.run(stop)
    finally:
        watcher.cancel()


async def serve(spec: dict[str, Any]) -> dict[str, Any]:
    from briefcast.delivery.ops import run_worker

    settings = settings_for(spec)
    store = Store.open(spec["db_url"], settings=settings, migrate=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print("ready", flush=True)
    t0 = time.monotonic()
    try:
        stats = await run_worker(settings, store, stop, transports=transports_for(spec))
    finally:
        store.close()
    return {"elapsed": time.monotonic() - t0, "delivered": stats.delivered, "vm_hwm_kb": vm_hwm_kb()}


def main() -> None:
    spec = json.loads(sys.argv[1])
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    report = asyncio.run(drain(spec) if spec["mode"] == "drain" else serve(spec))
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
