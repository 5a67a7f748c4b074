"""Reading an HTTP response body with a size cap: the one implementation every GET of briefcast uses.

Three readers fetch bodies they did not choose the size of: a briefing URL (``ingest/read.py``,
synchronous), a polled source (``ingest/sources/``) and a file shared in Slack
(``bot/slack/files.py``). Each refuses a declared ``Content-Length`` over the cap before reading and
stops reading as soon as the streamed body passes it (a server may lie or send no length), then
words the refusal its own way from :class:`OverCap`.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx


class OverCap(Exception):
    """The body is larger than ``limit`` bytes: ``declared`` (Content-Length) or found while reading."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        super().__init__(f"over the {limit:,}-byte limit")
        self.limit = limit
        self.declared = declared


def check_declared(headers: Mapping[str, str], limit: int) -> None:
    """Raise :class:`OverCap` when the response says it is larger than ``limit``."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise OverCap(limit, int(declared))


def read_capped(response: httpx.Response, limit: int) -> bytes:
    """The streamed body of a synchronous ``client.stream(...)`` response, at most ``limit`` bytes."""
    check_declared(response.headers, limit)
    buf = bytearray()
    for chunk in response.iter_bytes():
        buf += chunk
        if len(buf) > limit:
            raise OverCap(limit)
    return bytes(buf)


async def aread_capped(response: httpx.Response, limit: int) -> bytes:
    """The streamed body of an async ``client.stream(...)`` response, at most ``limit`` bytes."""
    check_declared(response.headers, limit)
    buf = bytearray()
    async for chunk in response.aiter_bytes():
        buf += chunk
        if len(buf) > limit:
            raise OverCap(limit)
    return bytes(buf)
