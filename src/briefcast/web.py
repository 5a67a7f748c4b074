"""The project's one ASGI app (Starlette): health, and whatever routes the adapters bring.

Adapters do not start servers of their own. The Telegram webhook, Slack events,
the issue API and metrics are passed in as ``routes``; each component that
can fail (database, bots) adds a named health check. ``/healthz`` runs them
all and answers 200 when every check passes, 503 otherwise, with a JSON body
that says which one failed.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

log = logging.getLogger(__name__)

HealthCheck = Callable[[], bool | Awaitable[bool]]
Lifespan = Callable[[Starlette], AbstractAsyncContextManager[Any]]

HEALTH_TIMEOUT = 5.0


async def _run_check(name: str, check: HealthCheck) -> bool:
    """One check, never raising: an exception or a timeout counts as unhealthy."""
    try:
        result = check()
        if inspect.isawaitable(result):
            result = await asyncio.wait_for(result, HEALTH_TIMEOUT)
        return bool(result)
    except Exception as e:
        log.warning("health check %s failed: %s", name, type(e).__name__)
        return False


def health_endpoint(checks: Mapping[str, HealthCheck]) -> Callable[[Request], Awaitable[Response]]:
    """``GET /healthz``: ``{"status": "ok"|"failing", "checks": {name: bool}}``."""

    async def healthz(request: Request) -> Response:
        results = {name: await _run_check(name, check) for name, check in checks.items()}
        ok = all(results.values())
        return JSONResponse(
            {"status": "ok" if ok else "failing", "checks": results}, status_code=200 if ok else 503
        )

    return healthz


def create_app(
    *,
    routes: Sequence[BaseRoute] = (),
    health_checks: Mapping[str, HealthCheck] | None = None,
    lifespan: Lifespan | None = None,
    debug: bool = False,
) -> Starlette:
    """The web app: ``/healthz`` plus the given routes (webhooks, APIs) in order."""
    checks = dict(health_checks or {})
    all_routes: list[BaseRoute] = [Route("/healthz", health_endpoint(checks), methods=["GET"]), *routes]
    return Starlette(debug=debug, routes=all_routes, lifespan=lifespan)
