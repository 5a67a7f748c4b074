"""The bot as deployed with a webhook, in its own process: ``python -m bench.webhook_app '<JSON>'``.

Runs :func:`briefcast.runtime.serve` (uvicorn + Starlette) with the real
:class:`briefcast.bot.telegram.TelegramBot` in webhook mode, pointed at the fake Bot API.
Prints ``{"port": N}`` once serving, and a JSON report (CPU, peak RSS) after SIGTERM.

A non-empty ``variant`` applies the fixes proposed in docs/benchmarks.md (see
:func:`_apply_fixes`): the PTB ``Application`` built with ``concurrent_updates(True)``
(otherwise PTB handles one update at a time, and every reply waits for the previous one's
sendMessage round trip), optionally on aiohttp instead of httpx.
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


def _apply_fixes(variant: str) -> None:
    """The proposed changes to ``briefcast.bot.telegram.build_application``, applied in-process.

    Same builder calls as the shipped function, plus ``.concurrent_updates(True)`` and, with
    ``ptbaio`` in ``variant``, PTB's HTTP layer on aiohttp (:class:`bench.proposals.AiohttpRequest`);
    ``sniffio`` in ``variant``: :func:`bench.proposals.install_sniffio_shim`.
    """
    import briefcast.bot.telegram as bot_module
    from bench.proposals import AiohttpRequest, install_sniffio_shim

    if "sniffio" in variant:
        install_sniffio_shim()

    def build_application(settings: Settings, *, webhook: bool) -> Any:
        from telegram.ext import Application

        builder = Application.builder().token(settings.telegram.token.get()).concurrent_updates(True)
        if "ptbaio" in variant:
            builder = builder.request(AiohttpRequest(256)).get_updates_request(AiohttpRequest(1))
        api_url = settings.telegram.api_url.rstrip("/")
        if api_url:
            builder = builder.base_url(api_url)
            if api_url.endswith("/bot"):
                builder = builder.base_file_url(api_url[: -len("/bot")] + "/file/bot")
        if webhook:
            builder = builder.updater(None)
        return builder.build()

    bot_module.build_application = build_application


async def main(cfg: dict[str, Any]) -> dict[str, Any]:
    from briefcast.bot.telegram import TelegramBot
    from briefcast.runtime import serve

    if cfg.get("variant"):
        _apply_fixes(cfg["variant"])
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
    if "cache" in cfg.get("variant", ""):
        from bench.proposals import install_latest_issue_cache

        install_latest_issue_cache(store)
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
