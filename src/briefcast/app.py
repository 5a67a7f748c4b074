"""The composition root: builds, once, everything ``briefcast run`` serves.

Settings in, an :class:`Assembly` out: the bots (each with its command layer and upload flow),
the delivery service (engine, scheduler, transports), the ingest service shared by the bots,
the issue API and the dashboard, the source pollers and the routes. Everything is built here
and injected; :mod:`briefcast.runtime` only serves what it is given (socket, ASGI app,
start/stop order, signals). With no platform credential the playground is assembled instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from starlette.routing import BaseRoute

from briefcast.briefing.sectors import SectorCatalogue
from briefcast.component import Component
from briefcast.config import Settings
from briefcast.ingest.service import IngestService
from briefcast.store import Store


def default_components(
    settings: Settings,
    store: Store,
    *,
    catalogue: SectorCatalogue | None = None,
    ingest: IngestService | None = None,
) -> list[Component]:
    """The components the settings ask for: Telegram and/or Slack when their tokens are set."""
    components: list[Component] = []
    if settings.telegram.token:
        from briefcast.bot.telegram import TelegramBot  # imported lazily: PTB only when configured

        components.append(TelegramBot(settings, store, catalogue=catalogue, ingest=ingest))
    if settings.slack.bot_token or (settings.slack.client_id and settings.slack.client_secret):
        from briefcast.bot.slack import SlackBot  # imported lazily: bolt only when configured

        components.append(SlackBot(settings, store, catalogue=catalogue, ingest=ingest))
    return components


class Assembly:
    """Everything ``briefcast run`` serves: settings (maybe overlaid), components, routes.

    With no platform credential at all, the embedded playground (fake Telegram and
    Slack, chat page) is assembled; otherwise the configured bots, the delivery
    service, the source pollers and the operator dashboard.
    """

    def __init__(
        self,
        settings: Settings,
        components: list[Component],
        routes: list[BaseRoute],
        *,
        playground: bool,
        close: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.components = components
        self.routes = routes
        self.playground = playground
        self.close = close


def assemble(settings: Settings, store: Store, *, catalogue: SectorCatalogue | None = None) -> Assembly:
    """Build the components and routes for :func:`serve` from the settings."""
    from briefcast.archive import archive_routes
    from briefcast.dashboard import dashboard_routes
    from briefcast.delivery.service import DeliveryService
    from briefcast.delivery.transports import build_transports
    from briefcast.ingest.api import issue_routes
    from briefcast.ingest.sources import SourcePolling, build_pollers
    from briefcast.jobs import Jobs
    from briefcast.metrics import instrument_commands, instrument_transports, metrics_route
    from briefcast.playground import build_playground, wants_playground

    jobs = Jobs()  # one APScheduler for the slot tick and every source poll
    if wants_playground(settings):
        pg = build_playground(settings, store, catalogue=catalogue, jobs=jobs)
        overlay = pg.settings
        service = pg.ingest
        components: list[Component] = list(pg.components)
        routes: list[BaseRoute] = list(pg.routes)
        close = pg.close
    else:
        overlay = settings
        delivery = DeliveryService(
            settings, store, instrument_transports(build_transports(settings, engine=store.engine)), jobs=jobs
        )
        service = IngestService(
            store,
            catalogue=catalogue,
            on_published=delivery.on_issue_published,
            options=settings.newsletter.parse_options(),
        )
        components = default_components(settings, store, catalogue=catalogue, ingest=service)
        for c in components:
            commands = getattr(c, "commands", None)
            if commands is not None:
                instrument_commands(commands)
        components.append(delivery)
        for c in components:
            if hasattr(c, "on_reply"):  # the Telegram bot: its replies share the engine's budget
                c.on_reply = functools.partial(delivery.engine.note_reply, "telegram")
        routes = list(dashboard_routes(settings, store, ingest=service))
        close = _noop
    pollers = build_pollers(overlay.sources, service)
    if pollers:
        components.append(SourcePolling(pollers, jobs=jobs))
    routes += [metrics_route(store), *issue_routes(service, api_token=overlay.api_token)]
    routes += archive_routes(overlay, store, catalogue=catalogue)  # empty unless public_url is set
    return Assembly(overlay, components, routes, playground=wants_playground(settings), close=close)


def _noop() -> None:
    return None
