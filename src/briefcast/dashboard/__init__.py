"""The operator dashboard: issues with previews, subscriptions, deliveries, sources, publishing.

Mount it on the one web app with :func:`dashboard_routes`::

    routes = [*dashboard_routes(settings, store, ingest=IngestService(store)), metrics_route(store)]

``home=True`` also serves it at ``/`` (when tokens are configured, ``/`` is the dashboard;
in the playground ``/`` is the chat page and the dashboard lives at ``/dashboard``).
Access rules are in :mod:`briefcast.dashboard.auth`.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

from briefcast.config import Settings
from briefcast.dashboard.views import Dashboard
from briefcast.store import Store

__all__ = ["Dashboard", "dashboard_routes"]


def dashboard_routes(
    settings: Settings, store: Store, *, ingest: Any | None = None, home: bool = True
) -> list[BaseRoute]:
    """The dashboard's routes; ``ingest`` (an :class:`~briefcast.ingest.IngestService`) enables Publish."""
    return Dashboard(settings, store, ingest=ingest, home=home).routes()
