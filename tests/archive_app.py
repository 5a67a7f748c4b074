"""Helpers of the public-archive tests: issue texts, and the real app served over HTTP.

The issues are the repository's sample issue (``examples/sample-issue.md``, from the briefing
the project was written for) with a pinned date (front matter) and, where a test needs several
issues, another title; a "revision" is the same issue with one sentence changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from starlette.routing import BaseRoute

from briefcast.component import Component
from briefcast.config import Settings
from briefcast.runtime import serve
from briefcast.store import Store

REPO = Path(__file__).resolve().parents[1]
SAMPLE = (REPO / "examples" / "sample-issue.md").read_text(encoding="utf-8")
SAMPLE_EN = (REPO / "examples" / "sample-issue-en.md").read_text(encoding="utf-8")
SAMPLE_TITLE = "硅谷关键赛道周观察"
EN_TITLE = "Key Sectors Weekly"
TOKEN = "archive-test-token"
# A sentence of the sample's energy section, and what a revision says instead.
ORIGINAL = "覆盖换电、乘用车、商用车及储能领域"
CORRECTED = "覆盖换电、乘用车、商用车、船舶及储能领域（更正）"


def issue_text(day: str = "2026-11-28", *, title: str = SAMPLE_TITLE, corrected: bool = False) -> str:
    """The sample issue dated ``day``, titled ``title``; ``corrected``: its energy section amended."""
    body = SAMPLE.replace(SAMPLE_TITLE, title, 1)
    if corrected:
        assert ORIGINAL in body
        body = body.replace(ORIGINAL, CORRECTED, 1)
    return f"---\ndate: {day}\n---\n\n{body}"


def en_issue_text(day: str = "2026-11-29") -> str:
    return f"---\ndate: {day}\n---\n\n{SAMPLE_EN}"


def free_port() -> int:
    """A loopback port nobody listens on now (the playground's public URL needs it before binding)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def served(
    settings: Settings,
    store: Store,
    *,
    routes: Sequence[BaseRoute],
    components: Sequence[Component] = (),
) -> AsyncIterator[str]:
    """``briefcast.runtime.serve`` on ``settings.http_port`` (0: any); yields ``http://127.0.0.1:PORT``."""
    stop = asyncio.Event()
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(
            settings, store, stop_event=stop, components=components, routes=routes, on_ready=port.set_result
        )
    )
    try:
        yield f"http://127.0.0.1:{await asyncio.wait_for(asyncio.shield(port), 20)}"
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 20)
