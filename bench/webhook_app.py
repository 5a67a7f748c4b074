"""The bot as deployed with a webhook, in its own process: ``python -m bench.webhook_app '<JSON>'``.

Runs :func:`briefcast.runtime.serve` (uvicorn + Starlette) with the real
:class:`briefcast.bot.telegram.TelegramBot` in webhook mode, pointed at the fake Bot API.
Prints ``{"port": N}`` once serving, and a JSON report (CPU, peak RSS) after SIGTERM.

With a ``profile`` path, a pyinstrument profile of the whole process is written there on exit
(``python -m bench --only command_latency_p99 --profile``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from typing import Any

from bench.worker import cpu_seconds, vm_hwm_kb
from briefcast.config import Secret, Settings, TelegramSettings
from briefcast.store import Store


async def main(cfg: dict[str, Any]) -> dict[str, Any]:
    from briefcast.bot.telegram import TelegramBot
    from briefcast.runtime import serve

    port = int(cfg["port"])
    settings = Settings(
        database_url=cfg["db_url"],
        http_host="127.0.0.1",
        http_port=port,
        telegram=TelegramSettings(
            token=Secret(cfg["token"]),
            api_url=cfg["api_url"],
            webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
            webhook_secret=Secret(cfg["secret"]),
        ),
    )
    store = Store.open(cfg["db_url"], settings=settings, migrate=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    cpu0 = cpu_seconds()

    def ready(p: int) -> None:
        print(json.dumps({"port": p}), flush=True)

    profiler: Any = None
    if cfg.get("profile"):
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001, async_mode="disabled")
        profiler.start()
    try:
        await serve(
            settings, store, stop_event=stop, components=[TelegramBot(settings, store)], on_ready=ready
        )
    finally:
        store.close()
        if profiler is not None:
            profiler.stop()
            with open(cfg["profile"], "w") as fh:
                fh.write(profiler.output_text(unicode=True, show_all=True))
    return {"cpu": cpu_seconds() - cpu0, "vm_hwm_kb": vm_hwm_kb()}


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))), flush=True)
