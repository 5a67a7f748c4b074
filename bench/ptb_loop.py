"""What a user would write instead of the engine: a loop of ``bot.send_message`` with PTB's limiter.

``python -m bench.ptb_loop '{"base_url", "token", "chats", "text", "max_retries", "pattern"}'``

* ``pattern="sequential"`` — ``for chat in chats: await bot.send_message(...)``, the loop from
  python-telegram-bot's broadcast examples;
* ``pattern="gather"`` — one task per chat (``asyncio.gather``), the way ``AIORateLimiter`` is
  meant to be used ("designed for concurrent requests"), so that it is the limiter, not the
  round-trip time, that sets the pace.

A send that raises (``RetryAfter`` once ``max_retries`` is exhausted, or any other error) is a
lost message: the loop has no outbox to come back to it. Prints one JSON report.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from typing import Any


async def main(cfg: dict[str, Any]) -> dict[str, Any]:
    from telegram import LinkPreviewOptions
    from telegram.error import RetryAfter, TelegramError
    from telegram.ext import AIORateLimiter, Application

    limiter = AIORateLimiter(max_retries=int(cfg["max_retries"]))
    app = Application.builder().token(cfg["token"]).base_url(cfg["base_url"]).rate_limiter(limiter).build()
    sent = lost = retry_after = 0
    errors: dict[str, int] = {}
    preview = LinkPreviewOptions(is_disabled=True)

    async def send(chat: int) -> None:
        nonlocal sent, lost, retry_after
        try:
            await app.bot.send_message(chat, cfg["text"], parse_mode="HTML", link_preview_options=preview)
        except RetryAfter:
            lost += 1
            retry_after += 1
        except TelegramError as e:
            lost += 1
            errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
        else:
            sent += 1

    async with app:
        t0 = time.monotonic()
        if cfg["pattern"] == "sequential":
            for chat in cfg["chats"]:
                await send(int(chat))
        else:
            await asyncio.gather(*(send(int(chat)) for chat in cfg["chats"]))
        t1 = time.monotonic()
    return {"sent": sent, "lost": lost, "lost_retry_after": retry_after, "errors": errors,
            "t_start": t0, "t_end": t1, "elapsed": t1 - t0}  # fmt: skip


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))), flush=True)
