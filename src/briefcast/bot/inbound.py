"""Inbound HTTP hygiene shared by the webhooks: a body cap read before anything is parsed.

A platform's webhook body is small (Telegram updates and Slack events are a few KiB); reading an
unbounded body let one unsigned 200 MB POST cost +520 MB of memory and a 500. The body is read in
chunks up to :data:`MAX_BODY` and refused with 413 beyond it, *before* any signature or JSON work.
"""

from __future__ import annotations

from starlette.requests import Request

MAX_BODY = 1024 * 1024  # 1 MiB


class BodyTooLarge(Exception):
    """The request body exceeds the cap (answer 413)."""


async def read_capped(request: Request, limit: int = MAX_BODY) -> bytes:
    """The request body, at most ``limit`` bytes; :class:`BodyTooLarge` beyond it.

    Starlette caches the body, so a framework reading it again (bolt) gets these same bytes.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # what request.body() returns from now on
    return body
