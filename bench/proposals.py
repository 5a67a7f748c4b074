"""Proposed fixes, measured side by side with the shipped code (never used by the product).

The benchmarks found that the engine's CPU per delivery is dominated by the HTTP client stack
under :class:`briefcast.delivery.transports.TelegramTransport` (python-telegram-bot ->
httpx -> httpcore -> anyio). Two candidate fixes live here so ``python -m bench --variants``
can show their effect on the same run, same fake, same database:

* :func:`install_sniffio_shim` — httpcore calls ``import sniffio`` on every request; sniffio
  is no longer a dependency of anyio 4.x, so in our lock file the import *fails* every time and
  Python searches ``sys.path`` on disk for it, per request. Installing ``sniffio`` (one line in
  ``pyproject.toml``) makes it a dictionary hit. The shim is what installing it amounts to.
* :class:`AiohttpRequest` — python-telegram-bot's documented extension point
  (``telegram.request.BaseRequest``) implemented on aiohttp: PTB, its typed errors and every
  call site stay; only the HTTP client under it changes (``Bot(request=AiohttpRequest())``,
  ``Application.builder().request(AiohttpRequest())``). httpcore's pool scans every pooled
  connection for every request (``_assign_requests_to_connections``), which is what makes httpx
  expensive at 32-256 concurrent requests;
* :func:`install_latest_issue_cache` — every sector command calls ``Store.latest_issue()``,
  which loads the whole newest ``issue`` row through the ORM (including the raw source text)
  and rebuilds the :class:`Briefing` from JSON, on the event loop, per command. Issues are
  immutable per id, so: ask the database only for the newest id (an indexed one-column query)
  and keep the parsed issue of that id;
* :func:`install_claim_fix` — ``outbox.claim`` restricts rows to the worker's platforms with
  ``subscription_id IN (SELECT s.id FROM subscription JOIN chat ... WHERE platform IN ...)``:
  SQLite materialises that set (every subscription) on each claim, and PostgreSQL without ``id``
  in the ``(status, next_attempt_at)`` index sorts every pending row before its LIMIT. The fix:
  a correlated ``EXISTS`` for the platform, and the index ``(status, next_attempt_at, id)``
  (at 100k pending rows, per claim of 64: SQLite 44 -> 0.5 ms, PostgreSQL 267 -> 1 ms);
* :class:`AiohttpTelegramTransport` — ``sendMessage`` as one JSON POST on a shared aiohttp
  session (the Slack transport already uses aiohttp), errors classified by the existing
  :func:`briefcast.delivery.errors.classify_telegram`: no PTB objects at all on the hot path.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from briefcast.bot.telegram_request import AiohttpRequest as _ShippedAiohttpRequest
from briefcast.delivery.engine import Payload, Target
from briefcast.delivery.errors import FailureKind, SendError, classify_telegram


def install_sniffio_shim() -> None:
    """Make ``import sniffio`` succeed (what ``pip install sniffio`` achieves) if it is missing."""
    try:
        import sniffio  # noqa: F401  (a dependency since the benchmark; the shim is for old locks)
    except ImportError:
        mod = types.ModuleType("sniffio")
        mod.current_async_library = lambda: "asyncio"  # type: ignore[attr-defined]
        sys.modules["sniffio"] = mod


def install_claim_fix(engine: Any) -> None:
    """Shipped: ``outbox.claim`` uses the correlated EXISTS and migration 0002 creates the index.

    Kept as a no-op so the variant names of earlier runs (``+claim_fix``) still run.
    """
    return None


def install_latest_issue_cache(store: Any) -> None:
    """Replace ``store.latest_issue`` with an id query plus a one-entry cache of the parsed issue.

    The proposed change to ``briefcast.store.store.Store.latest_issue`` itself, as a patch on
    one instance.
    """
    import sqlalchemy as sa

    from briefcast.store.tables import IssueRow

    table = IssueRow.__table__  # type: ignore[attr-defined]
    newest = (
        sa.select(table.c.id)
        .where(table.c.status == "published")
        .order_by(table.c.date.desc().nulls_last(), table.c.id.desc())
        .limit(1)
    )
    cache: dict[int, Any] = {}

    def latest_issue() -> Any:
        with store.engine.connect() as conn:
            issue_id = conn.execute(newest).scalar()
        if issue_id is None:
            return None
        if issue_id not in cache:
            cache.clear()
            cache[issue_id] = store.get_issue(issue_id)
        return cache[issue_id]

    store.latest_issue = latest_issue


# Shipped in src/briefcast/bot/telegram_request.py; the name is kept for the variants.
AiohttpRequest = _ShippedAiohttpRequest


class AiohttpTelegramTransport:
    """``sendMessage`` over one aiohttp session; same error vocabulary as ``TelegramTransport``."""

    platform = "telegram"

    def __init__(
        self,
        token: str,
        *,
        base_url: str = "https://api.telegram.org/bot",
        concurrency: int = 32,
        paid_broadcast: bool = False,
        timeout: float = 20.0,
    ) -> None:
        self.url = f"{base_url.rstrip('/')}{token}/sendMessage"
        self.concurrency = concurrency
        self.paid_broadcast = paid_broadcast
        self.timeout = timeout
        self._session: Any = None

    def _get_session(self) -> Any:
        if self._session is None:
            import aiohttp

            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.concurrency + 4),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            )
        return self._session

    async def send(self, target: Target, payload: Payload) -> str:
        import aiohttp

        params = dict(payload)
        chat = target.chat_id
        params["chat_id"] = int(chat) if chat.lstrip("-").isdigit() else chat
        if target.thread_id:
            params["message_thread_id"] = int(target.thread_id)
        if self.paid_broadcast:
            params["allow_paid_broadcast"] = True
        try:
            async with self._get_session().post(self.url, json=params) as resp:
                status = resp.status
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    body = {}
        except (TimeoutError, aiohttp.ClientError) as e:
            raise SendError(FailureKind.TRANSIENT, f"{type(e).__name__}: {e}") from None
        if isinstance(body, dict) and body.get("ok"):
            result = body.get("result") or {}
            return str(result.get("message_id", "")) if isinstance(result, dict) else str(result)
        desc = str(body.get("description", "")) if isinstance(body, dict) else ""
        params_ = body.get("parameters") if isinstance(body, dict) else None
        if status >= 500:
            raise SendError(FailureKind.TRANSIENT, desc or f"HTTP {status}")
        raise classify_telegram(status, desc, params_ if isinstance(params_, dict) else None)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
