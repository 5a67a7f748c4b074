"""``briefcast doctor``: check the configuration, the database and the platform tokens, in plain words.

Each check returns a :class:`CheckResult` (``ok`` / ``warn`` / ``fail`` / ``skip``) with a
message that says what is wrong *and what to do*. Tokens are checked with the cheapest
authenticated call each platform has: Telegram ``getMe``, Slack ``auth.test``. Nothing is
sent to any chat, and no secret appears in a message (URLs are shown without the token).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import httpx

from briefcast.config import Settings
from briefcast.errors import BriefcastError

Status = Literal["ok", "warn", "fail", "skip"]
TELEGRAM_API = "https://api.telegram.org/bot"
SLACK_API = "https://slack.com/api/"
TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One line of the doctor's report."""

    name: str
    status: Status
    message: str

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "skip", "warn")


def _is_loopback(host: str) -> bool:
    from briefcast.dashboard.auth import is_loopback

    return is_loopback(host)


def check_configuration(settings: Settings) -> list[CheckResult]:
    """Settings that load but would not work (or would not be safe) in production."""
    out: list[CheckResult] = []
    try:
        settings.checked()
    except BriefcastError as e:
        return [CheckResult("configuration", "fail", str(e))]
    source = settings.config_file or "environment only (no config/briefcast.toml)"
    out.append(CheckResult("configuration", "ok", f"settings load ({source})"))
    if not _is_loopback(settings.http_host) and not settings.api_token:
        out.append(
            CheckResult(
                "api token",
                "warn",
                f"the web app listens on {settings.http_host}, a non-loopback address, and "
                "BRIEFCAST_API_TOKEN is not set: the dashboard and the issue API stay closed until it is",
            )
        )
    tg = settings.telegram
    if tg.webhook_url and not tg.webhook_url.startswith("https://"):
        out.append(
            CheckResult(
                "telegram webhook",
                "fail",
                "BRIEFCAST_TELEGRAM_WEBHOOK_URL must start with https:// "
                "(Telegram only calls HTTPS webhooks)",
            )
        )
    sl = settings.slack
    if sl.bot_token and not sl.app_token and not sl.signing_secret:
        out.append(
            CheckResult(
                "slack mode",
                "fail",
                "SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET "
                "(HTTP mode) is: set one of them",
            )
        )
    if sl.app_token and not sl.app_token.get().startswith("xapp-"):
        out.append(
            CheckResult("slack app token", "fail", "SLACK_APP_TOKEN must be an app-level token (xapp-…)")
        )
    if sl.bot_token and not sl.bot_token.get().startswith("xoxb-"):
        out.append(
            CheckResult("slack bot token", "warn", "SLACK_BOT_TOKEN does not look like a bot token (xoxb-…)")
        )
    if not tg.token and not sl.bot_token and not (sl.client_id and sl.client_secret):
        out.append(
            CheckResult(
                "platforms",
                "warn",
                "no TELEGRAM_BOT_TOKEN or SLACK_BOT_TOKEN: `briefcast run` starts the local playground "
                "(embedded fake Telegram and Slack) instead of real bots",
            )
        )
    return out


def check_database(settings: Settings) -> CheckResult:
    """Connect, run ``SELECT 1``, and compare the schema revision with the code's."""
    from briefcast.store import db

    safe = db.redacted_url(settings.database_url)
    try:
        engine = db.create_engine(settings.database_url)
    except Exception as e:  # bad URL, missing driver
        return CheckResult("database", "fail", f"cannot use {safe}: {_first_line(e)}")
    try:
        db.ping(engine)
        current = db.current_revision(engine)
    except Exception as e:
        return CheckResult("database", "fail", f"cannot connect to {safe}: {_first_line(e)}")
    finally:
        engine.dispose()
    head = _head_revision()
    if current is None:
        return CheckResult("database", "warn", f"{safe} is reachable but empty: run `briefcast db upgrade`")
    if head is not None and current != head:
        return CheckResult(
            "database",
            "warn",
            f"{safe} is at revision {current}, the code expects {head}: run `briefcast db upgrade`",
        )
    return CheckResult("database", "ok", f"{safe} is reachable, schema at revision {current}")


def _head_revision() -> str | None:
    try:
        from alembic.script import ScriptDirectory

        from briefcast.store.db import alembic_config

        return ScriptDirectory.from_config(alembic_config()).get_current_head()
    except Exception:  # advisory only: the connection itself already succeeded
        return None


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


async def check_telegram(settings: Settings, *, client: httpx.AsyncClient | None = None) -> CheckResult:
    """``getMe`` with the configured token; explains 401 (wrong token) and network failures."""
    token = settings.telegram.token.get()
    if not token:
        return CheckResult("telegram", "skip", "TELEGRAM_BOT_TOKEN is not set")
    base = (settings.telegram.api_url or TELEGRAM_API).rstrip("/")
    shown = base.split("://", 1)[-1].split("/", 1)[0]
    try:
        async with _client(client) as http:
            answer = await http.get(f"{base}{token}/getMe")
    except httpx.HTTPError as e:
        return CheckResult("telegram", "fail", f"cannot reach the Bot API at {shown}: {type(e).__name__}")
    try:
        data = answer.json()
    except ValueError:
        return CheckResult(
            "telegram", "fail", f"{shown} answered HTTP {answer.status_code} with something not JSON"
        )
    if answer.status_code == 401 or data.get("error_code") == 401:
        return CheckResult(
            "telegram",
            "fail",
            "Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized): copy the token again from @BotFather "
            "(/mybots → your bot → API Token)",
        )
    if not data.get("ok"):
        return CheckResult("telegram", "fail", f"getMe failed: {data.get('description', answer.status_code)}")
    me = data.get("result") or {}
    return CheckResult(
        "telegram", "ok", f"token valid: bot @{me.get('username', '?')} (id {me.get('id', '?')})"
    )


_SLACK_HINTS = {
    "invalid_auth": "Slack rejected SLACK_BOT_TOKEN (invalid_auth): copy the Bot User OAuth Token (xoxb-…) "
    "from your app's OAuth & Permissions page",
    "not_authed": "Slack received no token: set SLACK_BOT_TOKEN",
    "account_inactive": "the token belongs to a deleted user or an uninstalled app (account_inactive): "
    "reinstall the app to the workspace",
    "token_revoked": "the token was revoked (token_revoked): reinstall the app and copy the new token",
}


async def check_slack(settings: Settings, *, client: httpx.AsyncClient | None = None) -> CheckResult:
    """``auth.test`` with the bot token; explains Slack's error codes."""
    token = settings.slack.bot_token.get()
    if not token:
        if settings.slack.client_id:
            return CheckResult("slack", "skip", "multi-workspace (OAuth) install: tokens are per workspace")
        return CheckResult("slack", "skip", "SLACK_BOT_TOKEN is not set")
    base = settings.slack.api_url or SLACK_API
    if not base.endswith("/"):
        base += "/"
    try:
        async with _client(client) as http:
            answer = await http.post(f"{base}auth.test", headers={"Authorization": f"Bearer {token}"})
            data = answer.json()
    except httpx.HTTPError as e:
        return CheckResult("slack", "fail", f"cannot reach the Slack Web API: {type(e).__name__}")
    except ValueError:
        return CheckResult(
            "slack", "fail", f"auth.test answered HTTP {answer.status_code} with something not JSON"
        )
    if not data.get("ok"):
        code = str(data.get("error", f"HTTP {answer.status_code}"))
        return CheckResult("slack", "fail", _SLACK_HINTS.get(code, f"auth.test failed: {code}"))
    return CheckResult(
        "slack",
        "ok",
        f"token valid: {data.get('user', '?')} in workspace {data.get('team', '?')} "
        f"({data.get('team_id', '?')})",
    )


class _client:
    """Use the caller's client, or a short-lived one with a timeout."""

    def __init__(self, given: httpx.AsyncClient | None) -> None:
        self.given = given
        self.own: httpx.AsyncClient | None = None

    async def __aenter__(self) -> httpx.AsyncClient:
        if self.given is not None:
            return self.given
        self.own = httpx.AsyncClient(timeout=TIMEOUT)
        return self.own

    async def __aexit__(self, *exc: object) -> None:
        if self.own is not None:
            await self.own.aclose()


def check_delivery(settings: Settings) -> CheckResult:
    """The delivery workers on this database: alive (heartbeat), dead, or paused on a token fault."""
    from briefcast.store import db
    from briefcast.store.outbox import liveness

    try:
        engine = db.create_engine(settings.database_url)
    except Exception:
        return CheckResult("delivery", "skip", "no database")
    try:
        workers = liveness.workers(engine)
    except Exception:
        return CheckResult("delivery", "skip", "the database has no worker table yet")
    finally:
        engine.dispose()
    if not workers:
        return CheckResult("delivery", "ok", "no delivery worker is running")
    dead = [w.owner for w in workers if not w.alive]
    paused = [f"{w.owner} {w.status}" for w in workers if w.alive and w.status]
    if paused:
        return CheckResult("delivery", "fail", "; ".join(paused))
    if dead:
        return CheckResult(
            "delivery",
            "warn",
            f"stopped without handing back their work (taken over soon): {', '.join(dead)}",
        )
    return CheckResult(
        "delivery", "ok", f"{len(workers)} worker(s) alive: {', '.join(w.owner for w in workers)}"
    )


async def run_checks(settings: Settings) -> list[CheckResult]:
    """Every check, in the order an operator fixes things: configuration, database, tokens."""
    results = check_configuration(settings)
    database = await asyncio.to_thread(check_database, settings)
    results.append(database)
    if database.status == "ok":
        results.append(await asyncio.to_thread(check_delivery, settings))
    telegram, slack = await asyncio.gather(check_telegram(settings), check_slack(settings))
    return [*results, telegram, slack]


def doctor(settings: Settings) -> list[CheckResult]:
    """Synchronous entry point for the CLI."""
    return asyncio.run(run_checks(settings))


def format_results(results: Sequence[CheckResult], *, echo: Callable[[str], None] = print) -> bool:
    """Print one line per check; returns True when nothing failed."""
    marks = {"ok": "✔", "warn": "!", "fail": "✘", "skip": "-"}
    for r in results:
        echo(f"{marks[r.status]} {r.name}: {r.message}")
    return all(r.ok for r in results)
