"""The local playground: briefcast working out of the box, with no Telegram or Slack account.

When no platform token is configured, ``briefcast run`` calls :func:`build_playground` and
serves what it returns::

    pg = build_playground(settings, store)
    try:
        await serve(pg.settings, store, components=pg.components, routes=[*pg.routes, ...])
    finally:
        pg.close()

What runs: the fake Telegram Bot API and fake Slack Web API from :mod:`briefcast.emulators`
(embedded, on ephemeral loopback ports), the *real* Telegram bot (python-telegram-bot, long
polling the fake) and Slack app (bolt, HTTP mode, its ``/slack/events`` route on our web app),
and the real scheduler and delivery engine on a clock the page can move forward. The page at
``/`` is a chat view of a local user's private chat, a group, and a Slack channel; the operator
dashboard is at ``/dashboard``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from starlette.routing import BaseRoute

from briefcast.briefing.sectors import SectorCatalogue
from briefcast.component import Component
from briefcast.config import Secret, Settings
from briefcast.ingest.service import IngestService
from briefcast.jobs import Jobs
from briefcast.metrics import METRICS, Metrics, instrument_commands, instrument_transports
from briefcast.playground.platform import (
    SLACK_SIGNING_SECRET,
    SLACK_TOKEN,
    TELEGRAM_TOKEN,
    LocalPlatform,
)
from briefcast.playground.schedule import PlaygroundDelivery, ShiftableClock
from briefcast.playground.web import PlaygroundWeb
from briefcast.store import Store

__all__ = [
    "Playground",
    "PlaygroundDelivery",
    "ShiftableClock",
    "build_playground",
    "playground_settings",
    "wants_playground",
]

log = logging.getLogger(__name__)


def wants_playground(settings: Settings) -> bool:
    """True when no platform credential is configured at all (then ``run`` starts the playground)."""
    sl = settings.slack
    return not (
        settings.telegram.token or sl.bot_token or sl.app_token or (sl.client_id and sl.client_secret)
    )


def playground_settings(settings: Settings, platform: LocalPlatform) -> Settings:
    """The settings overlay: both bots pointed at the embedded fakes with the playground tokens."""
    telegram = settings.telegram.model_copy(
        update={
            "token": Secret(TELEGRAM_TOKEN),
            "api_url": platform.telegram_api_url,
            "webhook_url": "",
            "commands_per_minute": max(settings.telegram.commands_per_minute, 120),
        }
    )
    slack = settings.slack.model_copy(
        update={
            "bot_token": Secret(SLACK_TOKEN),
            "app_token": Secret(""),
            "signing_secret": Secret(SLACK_SIGNING_SECRET),
            "client_id": "",
            "client_secret": Secret(""),
            "api_url": platform.slack_api_url,
        }
    )
    public_url = settings.public_url or own_url(settings.http_host, settings.http_port)
    return settings.model_copy(update={"telegram": telegram, "slack": slack, "public_url": public_url})


def own_url(host: str, port: int) -> str:
    """The playground's own address as a browser on this machine reaches it, the default public URL
    (so the archive and the pushes' "read the whole issue" button work locally); ``""`` for port 0,
    which is not known before the socket is bound."""
    if not port:
        return ""
    h = host.strip().strip("[]")
    if h in ("", "0.0.0.0", "localhost"):
        h = "127.0.0.1"  # Telegram refuses links to dot-less hosts such as localhost
    elif h in ("::", "::1"):
        h = "[::1]"
    elif ":" in h:
        h = f"[{h}]"
    return f"http://{h}:{port}"


class FakesComponent:
    """The embedded fakes as a runtime component: first to start, last to stop (they serve the bots)."""

    name = "playground"

    def __init__(self, platform: LocalPlatform) -> None:
        self.platform = platform

    @property
    def started(self) -> bool:
        return self.platform.started

    async def start(self) -> None:
        self.platform.start()

    async def stop(self) -> None:
        self.platform.close()

    def routes(self) -> list[BaseRoute]:
        return []


@dataclass
class Playground:
    """What :func:`build_playground` returns: settings overlay, components and routes for ``serve``."""

    settings: Settings
    platform: LocalPlatform
    delivery: PlaygroundDelivery
    ingest: IngestService
    components: list[Component]
    routes: list[BaseRoute]
    notes: list[str] = field(default_factory=list)

    def close(self) -> None:
        """Stop the fakes if ``serve`` never ran (or failed before stopping its components)."""
        self.platform.close()


def build_playground(
    settings: Settings,
    store: Store,
    *,
    catalogue: SectorCatalogue | None = None,
    metrics: Metrics = METRICS,
    dashboard: bool = True,
    jobs: Jobs | None = None,
) -> Playground:
    """Start the embedded fakes and build the bots, scheduler, engine and pages around them.

    The fakes start here (background threads) because the bots need their URLs when they are
    constructed; everything else starts inside :func:`briefcast.runtime.serve`. The returned
    ``settings`` are the caller's with the playground tokens and URLs overlaid: pass them to
    ``serve`` (and to logging set-up, so those tokens are redacted like real ones).
    """
    from briefcast.bot.telegram import TelegramBot
    from briefcast.delivery.transports import SlackTransport, TelegramTransport

    platform = LocalPlatform(language=settings.default_language)
    platform.start()
    try:
        overlay = playground_settings(settings, platform)
        components: list[Component] = [FakesComponent(platform)]
        notes: list[str] = []
        transports = instrument_transports(
            {
                "telegram": TelegramTransport(
                    TELEGRAM_TOKEN, base_url=platform.telegram_api_url, concurrency=4
                ),
                "slack": SlackTransport(SLACK_TOKEN, base_url=platform.slack_api_url, concurrency=4),
            },
            metrics,
        )
        delivery = PlaygroundDelivery(overlay, store, transports, jobs=jobs)
        ingest = IngestService(store, catalogue=catalogue, on_published=delivery.on_issue_published)
        telegram = TelegramBot(overlay, store, catalogue=catalogue, ingest=ingest)
        instrument_commands(telegram.commands, metrics)
        components.append(telegram)
        slack_ok = False
        try:
            from briefcast.bot.slack import SlackBot

            slack = SlackBot(overlay, store, catalogue=catalogue, ingest=ingest)
            instrument_commands(slack.commands, metrics)
            components.append(slack)
            slack_ok = True
        except ImportError as e:  # the Slack adapter is optional at this layer
            notes.append(f"Slack app unavailable: {e}")
        components.append(delivery)
        from briefcast.dashboard.auth import DashboardAuth

        web = PlaygroundWeb(
            platform, delivery, slack=slack_ok, auth=DashboardAuth(overlay), archive=bool(overlay.public_url)
        )
        routes: list[BaseRoute] = list(web.routes())
        if dashboard:
            from briefcast.dashboard import dashboard_routes

            routes += dashboard_routes(overlay, store, ingest=ingest, home=False)
    except BaseException:
        platform.close()
        raise
    return Playground(overlay, platform, delivery, ingest, components, routes, notes)
