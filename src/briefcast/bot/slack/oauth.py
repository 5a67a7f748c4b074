"""Multi-workspace installs: slack-sdk's SQLAlchemy installation and OAuth state stores, run off the loop."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
BOT_SCOPES: tuple[str, ...] = (
    "commands",
    "chat:write",
    "chat:write.public",
    "app_mentions:read",
    "im:history",
    "im:read",
    "im:write",
    "users:read",
    "channels:read",
    "groups:read",
    "files:read",
)


class ThreadedInstallationStore(AsyncInstallationStore):
    """slack-sdk's synchronous SQLAlchemy installation store, run off the event loop.

    ``AsyncApp`` needs an async store; the sync one works on the project's
    existing engine (SQLite or psycopg 3) without an async driver.
    """

    def __init__(self, sync: SQLAlchemyInstallationStore) -> None:
        self.sync = sync

    @property
    def logger(self) -> logging.Logger:
        return self.sync.logger

    async def async_save(self, installation: Installation) -> None:
        await asyncio.to_thread(self.sync.save, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self.sync.save_bot, bot)

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        return await asyncio.to_thread(
            lambda: self.sync.find_bot(
                enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
            )
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await asyncio.to_thread(
            lambda: self.sync.find_installation(
                enterprise_id=enterprise_id,
                team_id=team_id,
                user_id=user_id,
                is_enterprise_install=is_enterprise_install,
            )
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(lambda: self.sync.delete_bot(enterprise_id=enterprise_id, team_id=team_id))

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await asyncio.to_thread(
            lambda: self.sync.delete_installation(
                enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
            )
        )


class ThreadedStateStore(AsyncOAuthStateStore):
    """slack-sdk's synchronous SQLAlchemy OAuth state store, run off the event loop."""

    def __init__(self, sync: SQLAlchemyOAuthStateStore) -> None:
        self.sync = sync

    @property
    def logger(self) -> logging.Logger:
        return self.sync.logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await asyncio.to_thread(self.sync.issue)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.sync.consume, state)


@dataclass(frozen=True)
class OAuthStores:
    """The installation and state stores on one engine, tables created."""

    installations: ThreadedInstallationStore
    states: ThreadedStateStore

    def bolt_settings(self, client_id: str, client_secret: str) -> AsyncOAuthSettings:
        """bolt's OAuth settings on these stores: the bot scopes, the install and redirect paths."""
        return AsyncOAuthSettings(
            client_id=client_id,
            client_secret=client_secret,
            scopes=list(BOT_SCOPES),
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            install_page_rendering_enabled=False,
            installation_store=self.installations,
            installation_store_bot_only=True,
            state_store=self.states,
        )


def oauth_stores(engine: sa.Engine, client_id: str, *, state_ttl: int = 600) -> OAuthStores:
    """slack-sdk's SQLAlchemy stores on ``engine``; creates ``slack_bots``, ``slack_installations``,
    ``slack_oauth_states`` if missing (idempotent)."""
    installations = SQLAlchemyInstallationStore(client_id=client_id, engine=engine)
    states = SQLAlchemyOAuthStateStore(expiration_seconds=state_ttl, engine=engine)
    # slack-sdk leaves create_tables unannotated (it returns None)
    installations.create_tables()  # type: ignore[no-untyped-call]
    states.create_tables()  # type: ignore[no-untyped-call]
    return OAuthStores(ThreadedInstallationStore(installations), ThreadedStateStore(states))
